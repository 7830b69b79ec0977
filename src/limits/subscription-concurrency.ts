import type { RedisClient } from '../queues/redis.js';
import type { Transfer } from '../domain.js';
import type { RedisKeys } from './redis-keys.js';
import { NOW_MS_LUA } from './redis-time.js';

/**
 * A subscription's own concurrency limit (its `throttle.<transfer>.concurrency`), across all worker
 * processes: a set of leases in Redis, one per job in flight, each expiring on its own so that a
 * crashed worker's lease cannot hold a slot forever.
 */
const ACQUIRE = `${NOW_MS_LUA}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
  return 1
end
return 0
`;

type WithAcquire = RedisClient & { relayAcquireLease(key: string, member: string, limit: number, ttlMs: number): Promise<number> };

export class SubscriptionConcurrency {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly leaseMs: number,
  ) {
    this.redis.defineCommand('relayAcquireLease', { numberOfKeys: 1, lua: ACQUIRE });
  }

  async acquire(subscriptionId: string, transfer: Transfer, jobId: string, limit: number): Promise<boolean> {
    const key = this.keys.inflight(subscriptionId, transfer);
    return (await (this.redis as WithAcquire).relayAcquireLease(key, jobId, limit, this.leaseMs)) === 1;
  }

  async release(subscriptionId: string, transfer: Transfer, jobId: string): Promise<void> {
    await this.redis.zrem(this.keys.inflight(subscriptionId, transfer), jobId);
  }
}
