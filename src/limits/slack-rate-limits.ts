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

/**
 * A storm (docs/contract.md §6.5): new messages waiting for one member's DM wait together. Each
 * joins the channel's storm set; one of them leads: it holds the channel's next slot, a second
 * after the previous leader's slot and after the last post that went out, and when the slot comes
 * it goes (the leader key says so) and takes the others with it in one message. The others wait:
 * the leader's message's worth until just after the leader's slot, later ones until just after
 * the slot of their round, so that a storm wakes a message's worth of jobs a second, not all of
 * them. A leader that has not gone by its slot and the grace (BullMQ woke its job late, or its
 * worker died) hands its slot to the next one to ask. All this only while Slack holds the channel
 * back (a 429 in the last minute, as WAIT's pacing): otherwise a post goes alone, at once, and a
 * storm starts with Slack's first 429.
 */
// KEYS: workspace block, channel block, pacing cursor, last post, storm set, leader (id|slot|gone).
// ARGV: spacing, alert id, score (its creation time), message capacity, grace.
const JOIN = `${NOW_MS_LUA}
local spacing = tonumber(ARGV[1])
local id = ARGV[2]
local capacity = tonumber(ARGV[4])
local grace = tonumber(ARGV[5])
local workspace = math.max(redis.call('PTTL', KEYS[1]), 0)
local channel = redis.call('PTTL', KEYS[2])
local paced = redis.call('EXISTS', KEYS[3])
local leader = redis.call('GET', KEYS[6])
-- a channel Slack has not limited lately lets the post go alone, at once
if channel <= 0 and paced == 0 and not leader then return { workspace, 1, 0 } end
redis.call('ZADD', KEYS[5], 'NX', ARGV[3], id)
redis.call('PEXPIRE', KEYS[5], 600000)
local last = tonumber(redis.call('GET', KEYS[4]) or '0')
local slot = math.max(now, last + spacing)
-- this alert leads and goes now: it takes the others within moments (a leader that died first
-- holds the storm this long)
local function goNow(at) redis.call('SET', KEYS[6], id .. '|' .. at .. '|1', 'PX', 2 * spacing) end
if leader then
  local leaderId, leaderSlot, gone = string.match(leader, '^([^|]*)|([^|]*)|?(%d?)$')
  leaderSlot = tonumber(leaderSlot)
  if leaderId == id then
    -- its slot has come, and a second has passed since the last post went out (a late one too)
    local wait = math.max(leaderSlot - now, last + spacing - now, workspace)
    if wait <= 0 then goNow(leaderSlot) end
    return { wait, 1, paced }
  end
  if gone == '1' or now < leaderSlot + grace then
    local round = math.floor((redis.call('ZRANK', KEYS[5], id) or 0) / capacity)
    -- the leader's message's worth looks again after the grace (the leader took them, or failed),
    -- the next ones just after the slot their round's message may go
    local after = grace
    if round > 0 then after = round * spacing + 50 end
    return { math.max(leaderSlot - now + after, workspace, 50), 0, paced }
  end
  slot = math.max(slot, leaderSlot)
else
  -- a new round: a second after the previous leader's slot, whose post may still be on its way
  slot = math.max(slot, tonumber(redis.call('GET', KEYS[3]) or '0') + spacing)
end
if channel > 0 then slot = math.max(slot, now + channel) end
local paceFor = redis.call('PTTL', KEYS[3])
if slot > now or paceFor <= 0 then paceFor = slot - now + 60000 end
redis.call('SET', KEYS[3], slot, 'PX', paceFor)
local wait = math.max(slot - now, workspace)
if wait <= 0 then
  goNow(slot)
else
  redis.call('SET', KEYS[6], id .. '|' .. slot .. '|0', 'PX', slot - now + grace + 10000)
end
return { wait, 1, 1 }
`;

// KEYS: storm set, leader. ARGV: the leader's id, how many others to take.
const TAKE = `
redis.call('ZREM', KEYS[1], ARGV[1])
local others = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
if #others > 0 then redis.call('ZREM', KEYS[1], unpack(others)) end
local leader = redis.call('GET', KEYS[2])
if leader and string.sub(leader, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then redis.call('DEL', KEYS[2]) end
return others
`;

/**
 * A storm's post answered 429: the channel is blocked for Retry-After, and paced from then on,
 * its next slot when the block ends (a cursor one spacing before it, unless slots are already taken).
 */
// KEYS: channel block, 429 count, pacing cursor. ARGV: Retry-After ms, spacing.
const BLOCK_PACED = `${NOW_MS_LUA}
local ms = tonumber(ARGV[1])
redis.call('SET', KEYS[1], '1', 'PX', ms, 'NX')
redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[3], now + ms - tonumber(ARGV[2]), 'PX', ms + 60000, 'NX')
`;

// On Redis's clock, like the pacing it is compared with.
const RECORD_POST = `${NOW_MS_LUA}
redis.call('SET', KEYS[1], now, 'PX', 10000)
`;

type WithWait = RedisClient & {
  relaySlackWait(workspace: string, channel: string, pace: string, lastPost: string, spacingMs: number): Promise<[number, number]>;
  relaySlackRecordPost(lastPost: string): Promise<void>;
  relaySlackJoin(
    workspace: string, channel: string, pace: string, lastPost: string, storm: string, leader: string,
    spacingMs: number, id: string, score: number, capacity: number, graceMs: number,
  ): Promise<[number, number, number]>;
  relaySlackTake(storm: string, leader: string, id: string, count: number): Promise<string[]>;
  relaySlackBlockPaced(block: string, count: string, pace: string, ms: number, spacingMs: number): Promise<void>;
};

/** How long after its leader's slot a storm's other alerts look again. */
const STORM_GRACE_MS = 300;

export class SlackRateLimits {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {
    this.redis.defineCommand('relaySlackWait', { numberOfKeys: 4, lua: WAIT });
    this.redis.defineCommand('relaySlackRecordPost', { numberOfKeys: 1, lua: RECORD_POST });
    this.redis.defineCommand('relaySlackJoin', { numberOfKeys: 6, lua: JOIN });
    this.redis.defineCommand('relaySlackTake', { numberOfKeys: 2, lua: TAKE });
    this.redis.defineCommand('relaySlackBlockPaced', { numberOfKeys: 3, lua: BLOCK_PACED });
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

  /**
   * A new message for `channelScope` waits with the others of a storm: `leader` says this alert
   * holds the channel's next slot (and takes the others when it comes); `waitMs` is how long to
   * wait before asking again (0: post now).
   */
  async joinStorm(
    workspaceScope: string,
    channelScope: string,
    alert: { id: string; createdAt: number },
    capacity: number,
  ): Promise<{ waitMs: number; leader: boolean; paced: boolean }> {
    const channel = this.key(channelScope);
    const [waitMs, leader, paced] = await (this.redis as WithWait).relaySlackJoin(
      this.key(workspaceScope), channel, `${channel}:pace`, `${channel}:last`, `${channel}:storm`, `${channel}:leader`,
      CHANNEL_SPACING_MS, alert.id, alert.createdAt, capacity, STORM_GRACE_MS,
    );
    return { waitMs: Number(waitMs), leader: Number(leader) === 1, paced: Number(paced) === 1 };
  }

  /** The leader's turn: it leaves the storm, with up to `count` of the others (oldest first). */
  async takeStorm(channelScope: string, leaderId: string, count: number): Promise<string[]> {
    const channel = this.key(channelScope);
    return (this.redis as WithWait).relaySlackTake(`${channel}:storm`, `${channel}:leader`, leaderId, count);
  }

  /** Alerts taken that did not fit (or whose post failed) wait with the storm again. */
  async rejoinStorm(channelScope: string, alerts: { id: string; createdAt: number }[]): Promise<void> {
    if (alerts.length === 0) return;
    await this.redis.zadd(`${this.key(channelScope)}:storm`, ...alerts.flatMap((alert) => [alert.createdAt, alert.id]));
  }

  /** A post to a paced channel went out now. */
  async recordPost(channelScope: string): Promise<void> {
    await (this.redis as WithWait).relaySlackRecordPost(`${this.key(channelScope)}:last`);
  }

  /** Slack answered 429: block the scope (never later than a block already set) and count it. */
  async block(scope: string, ms: number): Promise<void> {
    await this.redis.multi().set(this.key(scope), '1', 'PX', ms, 'NX').incr(this.keys.slack429Count).exec();
  }

  /** A storm's post answered 429: block the channel, and pace it from the end of the block. */
  async blockPaced(channelScope: string, ms: number): Promise<void> {
    const channel = this.key(channelScope);
    await (this.redis as WithWait).relaySlackBlockPaced(channel, this.keys.slack429Count, `${channel}:pace`, ms, CHANNEL_SPACING_MS);
  }

  private key(scope: string): string {
    return this.keys.slackScope(scope);
  }
}
