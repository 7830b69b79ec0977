import type { RedisClient } from '../queues/redis.js';
import type { ThrottleLimits, Transfer } from '../domain.js';
import type { RedisKeys } from './redis-keys.js';
import { NOW_MS_LUA } from './redis-time.js';

/**
 * The global ceiling of a queue (THROTTLE_<KIND>_LIMIT starts per THROTTLE_WINDOW_SECONDS, SPEC §4)
 * as a token bucket in Redis, shared by every worker process. Full, it lets `limit` starts through
 * at once, as BullMQ's fixed window did; emptied, it refills evenly, one start every
 * `window / limit`, so that no window of that length sees more than twice the limit (the bound
 * BullMQ's fixed windows give).
 *
 * Refilling evenly is what makes the ceiling fair: a fixed window spent by one subscription's
 * backlog held every other subscription's alerts to the window's end, however they were ranked.
 * Here the next start comes within `window / limit`, and goes to the job ranked first: intake ranks
 * each job by its place in its subscription's window (SubscriptionThrottle), so every subscription
 * with work gets its first start of a window before any gets its second.
 */
const TAKE = `${NOW_MS_LUA}
local capacity = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local perMs = capacity / windowMs
local tokens = tonumber(redis.call('HGET', KEYS[1], 'n') or capacity)
local at = tonumber(redis.call('HGET', KEYS[1], 't') or now)
tokens = math.min(capacity, tokens + math.max(0, now - at) * perMs)
if tokens < 1 then return math.ceil((1 - tokens) / perMs) end
redis.call('HSET', KEYS[1], 'n', tostring(tokens - 1), 't', now)
-- left alone for a window, the bucket is full again: it need not stay
redis.call('PEXPIRE', KEYS[1], windowMs)
return 0
`;

type WithTake = RedisClient & { relayTakeStart(key: string, capacity: number, windowMs: number): Promise<number> };

export class GlobalCeiling {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {
    this.redis.defineCommand('relayTakeStart', { numberOfKeys: 1, lua: TAKE });
  }

  /** Take one start of a queue's ceiling: 0 when taken, else how many ms until one is free. */
  async take(transfer: Transfer, { limit, seconds }: Pick<ThrottleLimits, 'limit' | 'seconds'>): Promise<number> {
    return (this.redis as WithTake).relayTakeStart(this.keys.ceiling(transfer), limit, seconds * 1000);
  }
}
