import type { RedisClient } from '../queues/redis.js';
import type { ThrottleSettings, Transfer } from '../domain.js';
import type { RedisKeys } from './redis-keys.js';
import { NOW_MS_LUA } from './redis-time.js';

/**
 * Per-subscription throttle by reservation at intake (docs/contract.md §4). Each alert takes the
 * next free slot of its subscription's fixed window (`limit` starts per `seconds`), and its job is
 * added with a delay until that window opens. A job held back by its subscription therefore waits
 * in BullMQ's delayed set, where it takes no global limiter slot, and one subscription's backlog
 * only ever occupies its own future windows, never another subscription's.
 *
 * Each slot also has a rank: its place in its window (1 for the window's first). Jobs run in rank
 * order across subscriptions (their BullMQ priority), so that when the global ceiling binds, every
 * subscription with work gets its first start of a window before any gets its second, and one
 * subscription's backlog cannot hold another's alerts back (GlobalCeiling).
 *
 * The cursor (current window, slots taken in it) lives in Redis and is moved by one Lua script,
 * so concurrent intakes in several web processes never hand out the same slot. Windows are
 * aligned to Redis's clock, like BullMQ's own fixed-window limiter.
 */

const RESERVE = `${NOW_MS_LUA}
local win = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local current = math.floor(now / win)
local w = tonumber(redis.call('HGET', KEYS[1], 'w') or '-1')
local c = tonumber(redis.call('HGET', KEYS[1], 'c') or '0')
if w < current then w = current; c = 0 end
local out = { now }
for i = 1, n do
  if c >= limit then w = w + 1; c = 0 end
  c = c + 1
  out[2 * i] = w * win
  out[2 * i + 1] = c
end
redis.call('HSET', KEYS[1], 'w', w, 'c', c)
redis.call('PEXPIRE', KEYS[1], (w + 1) * win - now + 1000)
return out
`;

export interface Slot {
  delayMs: number;
  /** its place in its window: 1 for the first */
  rank: number;
}

type WithReserve = RedisClient & {
  relayReserveSlots(key: string, windowMs: number, limit: number, count: number): Promise<(number | string)[]>;
};

export class SubscriptionThrottle {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {
    this.redis.defineCommand('relayReserveSlots', { numberOfKeys: 1, lua: RESERVE });
  }

  /** Reserve `count` delivery starts: each one's delay in ms (0 = the current window) and rank. */
  async reserve(subscriptionId: string, transfer: Transfer, throttle: ThrottleSettings, count: number): Promise<Slot[]> {
    const { limit, seconds } = throttle[transfer];
    const reply = await (this.redis as WithReserve).relayReserveSlots(this.keys.throttle(subscriptionId, transfer), seconds * 1000, limit, count);
    const [now, ...flat] = reply.map(Number);
    return Array.from({ length: count }, (_, i) => ({ delayMs: Math.max(0, flat[2 * i]! - now!), rank: flat[2 * i + 1]! }));
  }
}
