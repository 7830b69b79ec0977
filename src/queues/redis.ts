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

/** Memory use at or above this share of `maxmemory` makes the relay not ready: the next writes would fail. */
const MEMORY_PRESSURE = 0.9;

/**
 * Redis as /readyz sees it: `down` when it does not answer, `memory_full` when it is close to
 * `maxmemory` (with `noeviction`, writes are refused there, and every intake would answer 503).
 */
export async function redisHealth(redis: Redis): Promise<'ok' | 'down' | 'memory_full'> {
  if (redis.status !== 'ready') return 'down';
  const info = await redis.info('memory');
  const value = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  const max = value('maxmemory');
  return max > 0 && value('used_memory') >= max * MEMORY_PRESSURE ? 'memory_full' : 'ok';
}
