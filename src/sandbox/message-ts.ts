/**
 * Slack message timestamps: `<epoch seconds>.<6 digits>`, unique per message
 * and strictly increasing, because clients use them as message ids and sort by
 * them. Two posts in the same microsecond (or a clock going back) get the last
 * value plus one.
 */
export class MessageTsClock {
  private lastMicros = 0;

  next(now = Date.now()): string {
    const micros = Math.max(now * 1000, this.lastMicros + 1);
    this.lastMicros = micros;
    const seconds = Math.floor(micros / 1_000_000);
    const fraction = String(micros % 1_000_000).padStart(6, '0');
    return `${seconds}.${fraction}`;
  }
}
