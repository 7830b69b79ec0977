import type { Redis } from 'ioredis';

/**
 * A subscription's own concurrency limit (its `throttle.<kind>.concurrency`), across all worker
 * processes: a set of leases in Redis, one per job in flight, each expiring on its own so that a
 * crashed worker's lease cannot hold a slot forever.
 */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
  return 1
end
return 0
`;

type WithAcquire = Redis & { relayAcquireLease(key: string, member: string, limit: number, ttlMs: number): Promise<number> };

export class SubscriptionConcurrency {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly leaseMs: number,
  ) {
    this.redis.defineCommand('relayAcquireLease', { numberOfKeys: 1, lua: ACQUIRE });
  }

  async acquire(subscriptionId: string, kind: string, jobId: string, limit: number): Promise<boolean> {
    return (await (this.redis as WithAcquire).relayAcquireLease(this.key(subscriptionId, kind), jobId, limit, this.leaseMs)) === 1;
  }

  async release(subscriptionId: string, kind: string, jobId: string): Promise<void> {
    await this.redis.zrem(this.key(subscriptionId, kind), jobId);
  }

  private key(subscriptionId: string, kind: string): string {
    return `${this.prefix}:inflight:${subscriptionId}:${kind}`;
  }
}
