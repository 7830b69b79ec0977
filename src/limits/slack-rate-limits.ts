import type { RedisClient } from '../queues/redis.js';
import type { TokenSource } from '../domain.js';
import type { RedisKeys } from './redis-keys.js';
import { NOW_MS_LUA } from './redis-time.js';

/**
 * Slack's 429s, kept for the scope Slack applies them to (docs/contract.md §4): `chat.postMessage` is limited
 * per channel (about one post a second), other methods per workspace. A 429 blocks its scope for
 * Retry-After, in Redis, so every worker process holds back that channel's or workspace's calls
 * while other channels and subscriptions keep flowing.
 *
 * While a channel is blocked, the posts waiting for it are paced instead of released together:
 * each takes the next slot, one per second after the block ends. Released together, all but one
 * would be refused again, and the channel would lose a second at every round.
 */

const CHANNEL_SPACING_MS = 1000;

// KEYS: workspace block, channel block, channel pacing cursor, channel's last post while paced.
const WAIT = `${NOW_MS_LUA}
local spacing = tonumber(ARGV[1])
local workspace = math.max(redis.call('PTTL', KEYS[1]), 0)
local channel = redis.call('PTTL', KEYS[2])
if channel > 0 then
  local last = tonumber(redis.call('GET', KEYS[3]) or '0')
  local slot = math.max(now + channel, last + spacing)
  redis.call('SET', KEYS[3], slot, 'PX', slot - now + 60000)
  return { math.max(slot - now, workspace), 1 }
end
local paced = redis.call('EXISTS', KEYS[3])
local lastPost = tonumber(redis.call('GET', KEYS[4]) or '0')
if now - lastPost < spacing then return { math.max(spacing - (now - lastPost), workspace), paced } end
return { workspace, paced }
`;

// On Redis's clock, like the pacing it is compared with.
const RECORD_POST = `${NOW_MS_LUA}
redis.call('SET', KEYS[1], now, 'PX', 10000)
`;

type WithWait = RedisClient & {
  relaySlackWait(workspace: string, channel: string, pace: string, lastPost: string, spacingMs: number): Promise<[number, number]>;
  relaySlackRecordPost(lastPost: string): Promise<void>;
};

export class SlackRateLimits {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {
    this.redis.defineCommand('relaySlackWait', { numberOfKeys: 4, lua: WAIT });
    this.redis.defineCommand('relaySlackRecordPost', { numberOfKeys: 1, lua: RECORD_POST });
  }

  /** Methods other than posts are limited per workspace: one subscription with one token source. */
  static workspaceScope(subscriptionId: string, tokenSource: TokenSource): string {
    return `ws:${subscriptionId}:${tokenSource}`;
  }

  /** Posts are limited per channel. */
  static channelScope(subscriptionId: string, tokenSource: TokenSource, channel: string): string {
    return `ch:${subscriptionId}:${tokenSource}:${channel}`;
  }

  /**
   * How long (ms) a post to `channelScope` must wait: 0 when neither the workspace nor the channel
   * is blocked; else until the workspace is free and the post's paced slot on the channel. While
   * a channel is paced, a post also keeps a second after the previous one actually went out, so
   * that a late neighbour cannot make it collide. `paced` says to record this post's time.
   */
  async waitMs(workspaceScope: string, channelScope: string): Promise<{ waitMs: number; paced: boolean }> {
    const channel = this.key(channelScope);
    const [waitMs, paced] = await (this.redis as WithWait).relaySlackWait(
      this.key(workspaceScope),
      channel,
      `${channel}:pace`,
      `${channel}:last`,
      CHANNEL_SPACING_MS,
    );
    return { waitMs: Number(waitMs), paced: Number(paced) === 1 };
  }

  /** A post to a paced channel went out now. */
  async recordPost(channelScope: string): Promise<void> {
    await (this.redis as WithWait).relaySlackRecordPost(`${this.key(channelScope)}:last`);
  }

  /** Slack answered 429: block the scope (never later than a block already set) and count it. */
  async block(scope: string, ms: number): Promise<void> {
    await this.redis.multi().set(this.key(scope), '1', 'PX', ms, 'NX').incr(this.keys.slack429Count).exec();
  }

  private key(scope: string): string {
    return this.keys.slackScope(scope);
  }
}
