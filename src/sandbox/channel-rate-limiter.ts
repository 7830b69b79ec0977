const WINDOW_MS = 1000;

/**
 * Slack's per-channel posting limit ("about one message per second per
 * channel, short bursts allowed"), modelled as a sliding one-second window.
 * Only accepted posts count, as only they reach the channel.
 */
export class ChannelRateLimiter {
  private readonly recent = new Map<string, number[]>();

  constructor(private readonly perSecond: number) {
    if (!(perSecond >= 1)) throw new TypeError(`channelPostLimit.perSecond must be >= 1, got ${perSecond}`);
  }

  /** Records a post and returns null, or returns the Retry-After seconds (≥ 1) if the channel is over its limit. */
  acquire(channel: string, now = Date.now()): number | null {
    const window = (this.recent.get(channel) ?? []).filter((at) => now - at < WINDOW_MS);
    const oldest = window[0];
    if (oldest !== undefined && window.length >= this.perSecond) {
      this.recent.set(channel, window);
      return Math.max(1, Math.ceil((oldest + WINDOW_MS - now) / 1000));
    }
    window.push(now);
    this.recent.set(channel, window);
    return null;
  }

  clear(): void {
    this.recent.clear();
  }
}
