import type { Redis } from 'ioredis';

/**
 * Slack's 429s, kept for the scope Slack applies them to (SPEC §4): `chat.postMessage` is limited
 * per channel (about one post a second), other methods per workspace. A 429 blocks its scope for
 * Retry-After, in Redis, so every worker process holds back that channel's or workspace's calls
 * while other channels and subscriptions keep flowing.
 *
 * While a channel is blocked, the posts waiting for it are paced instead of released together:
 * each takes the next slot, one per second after the block ends. Released together, all but one
 * would be refused again, and the channel would lose a second at every round.
 */

const CHANNEL_SPACING_MS = 1020;

const WAIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local workspace = redis.call('PTTL', KEYS[1])
local channel = redis.call('PTTL', KEYS[2])
if channel <= 0 then return math.max(workspace, 0) end
local last = tonumber(redis.call('GET', KEYS[3]) or '0')
local slot = math.max(now + channel, last + tonumber(ARGV[1]))
redis.call('SET', KEYS[3], slot, 'PX', slot - now + 60000)
return math.max(slot - now, workspace)
`;

type WithWait = Redis & { relaySlackWait(workspace: string, channel: string, pace: string, spacingMs: number): Promise<number> };

export class SlackRateLimits {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.redis.defineCommand('relaySlackWait', { numberOfKeys: 3, lua: WAIT });
  }

  static workspaceScope(subscriptionId: string, tokenSource: string): string {
    return `ws:${subscriptionId}:${tokenSource}`;
  }

  static channelScope(subscriptionId: string, tokenSource: string, channel: string): string {
    return `ch:${subscriptionId}:${tokenSource}:${channel}`;
  }

  /**
   * How long (ms) a post to `channelScope` must wait: 0 when neither the workspace nor the channel
   * is blocked; else until the workspace is free and the post's paced slot on the channel.
   */
  async waitMs(workspaceScope: string, channelScope: string): Promise<number> {
    return Number(
      await (this.redis as WithWait).relaySlackWait(
        this.key(workspaceScope),
        this.key(channelScope),
        `${this.key(channelScope)}:pace`,
        CHANNEL_SPACING_MS,
      ),
    );
  }

  /** Slack answered 429: block the scope (never later than a block already set) and count it. */
  async block(scope: string, ms: number): Promise<void> {
    await this.redis.multi().set(this.key(scope), '1', 'PX', ms, 'NX').incr(`${this.prefix}:metrics:slack-429`).exec();
  }

  private key(scope: string): string {
    return `${this.prefix}:slack-429:${scope}`;
  }
}
