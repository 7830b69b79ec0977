import { Redis, type RedisOptions } from 'ioredis';

/**
 * Redis connections. The web process must fail fast while Redis is down (SPEC §5: 503 in under a
 * second, never a hang), so its connection queues nothing offline and retries a command once.
 * Workers block on Redis and must wait for it forever (BullMQ requires maxRetriesPerRequest: null).
 * No auto-pipelining: intake's group commit already shares round trips between requests, and
 * ioredis's auto-pipelining can throw out of the event loop ("results[i] is not iterable",
 * ioredis#1931) when a script command is defined after a pipeline was started, which BullMQ does
 * whenever a queue connects; bench/intake-cpu.ts crashed that way.
 */
export function createRedis(url: string, role: 'producer' | 'worker', extra: RedisOptions = {}): Redis {
  const shared: RedisOptions = {
    connectTimeout: 2000,
    // reconnect quickly, but not in a hot loop
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
    lazyConnect: false,
  };
  const byRole: RedisOptions =
    role === 'producer'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000 }
      : { maxRetriesPerRequest: null };
  const redis = new Redis(url, { ...shared, ...byRole, ...extra });
  // ioredis emits 'error' on every failed reconnect; the owner logs state changes, not each one.
  redis.on('error', () => {});
  return redis;
}
