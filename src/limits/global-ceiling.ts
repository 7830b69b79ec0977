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
 * with work gets its first start of a window before any gets its second. Two worker processes
 * that take jobs at the same moment could still hand the start to the worse-ranked one, whichever
 * asks first; so a refused job's rank holds the next start (for a few refill intervals, in case it
 * went away), and only a job ranked as well or better may take it.
 */
const TAKE = `${NOW_MS_LUA}
local capacity = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local rank = tonumber(ARGV[3])
local perMs = capacity / windowMs
local tokens = tonumber(redis.call('HGET', KEYS[1], 'n') or capacity)
local at = tonumber(redis.call('HGET', KEYS[1], 't') or now)
tokens = math.min(capacity, tokens + math.max(0, now - at) * perMs)
-- the best rank refused lately has the next start: a worse one taken at the same moment by
-- another worker process must not win it by asking first
local held = tonumber(redis.call('HGET', KEYS[1], 'r') or '-1')
if held >= 0 and now - tonumber(redis.call('HGET', KEYS[1], 'rt')) > math.max(250, 3 / perMs) then held = -1 end
if tokens >= 1 and (held < 0 or rank <= held) then
  redis.call('HSET', KEYS[1], 'n', tostring(tokens - 1), 't', now)
  if held >= 0 and rank >= held then redis.call('HDEL', KEYS[1], 'r', 'rt') end
  -- left alone for a window, the bucket is full again: it need not stay
  redis.call('PEXPIRE', KEYS[1], windowMs)
  return 0
end
if held < 0 or rank < held then redis.call('HSET', KEYS[1], 'r', rank, 'rt', now) end
redis.call('PEXPIRE', KEYS[1], windowMs)
if tokens >= 1 then return 5 end
return math.ceil((1 - tokens) / perMs)
`;

type WithTake = RedisClient & { relayTakeStart(key: string, capacity: number, windowMs: number, rank: number): Promise<number> };

export class GlobalCeiling {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {
    this.redis.defineCommand('relayTakeStart', { numberOfKeys: 1, lua: TAKE });
  }

  /**
   * Take one start of a queue's ceiling for a job of `rank` (its BullMQ priority; 0 for none): 0
   * when taken, else how many ms to hold off.
   */
  async take(transfer: Transfer, { limit, seconds }: Pick<ThrottleLimits, 'limit' | 'seconds'>, rank: number): Promise<number> {
    return (this.redis as WithTake).relayTakeStart(this.keys.ceiling(transfer), limit, seconds * 1000, rank);
  }
}
