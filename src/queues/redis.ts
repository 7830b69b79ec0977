import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/** A connection to one Redis, a Sentinel-managed set, or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** Where the relay's Redis is (docs/contract.md §6.3): one server or a Sentinel set (REDIS_URL), or a Cluster. */
export interface RedisTarget {
  redisUrl: string;
  redisClusterNodes: { host: string; port: number }[] | null;
}

/**
 * Redis connections. The web process must fail fast while Redis is down (docs/contract.md §5: 503
 * in under a second, never a hang), so its connection queues nothing offline and retries a command
 * once. Workers block on Redis and must wait for it forever (BullMQ requires maxRetriesPerRequest:
 * null), across a Sentinel failover or a Cluster's resharding too.
 * No auto-pipelining: intake's group commit already shares round trips between requests, and
 * ioredis's auto-pipelining can throw out of the event loop ("results[i] is not iterable",
 * ioredis#1931) when a script command is defined after a pipeline was started, which BullMQ does
 * whenever a queue connects.
 */
export function createRedis(target: RedisTarget | string, role: 'producer' | 'worker', extra: RedisOptions = {}): RedisClient {
  const { redisUrl, redisClusterNodes } = typeof target === 'string' ? { redisUrl: target, redisClusterNodes: null } : target;
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
  const options = { ...shared, ...byRole, ...extra };
  const sentinels = sentinelOptions(redisUrl);
  const redis: RedisClient = redisClusterNodes
    ? new Cluster(redisClusterNodes, clusterOptions(options, role))
    : sentinels
      ? new Redis({ ...sentinels, ...options })
      : new Redis(redisUrl, options);
  // ioredis emits 'error' on every failed reconnect; the owner logs state changes, not each one.
  redis.on('error', () => {});
  return redis;
}

function clusterOptions(options: RedisOptions, role: 'producer' | 'worker'): ClusterOptions {
  return {
    redisOptions: options,
    enableOfflineQueue: role === 'worker',
    clusterRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
    // follow MOVED/ASK and failovers instead of failing the command
    maxRedirections: 16,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 200,
    slotsRefreshTimeout: 2000,
  };
}

/**
 * A Sentinel set in REDIS_URL: `redis+sentinel://[:password@]h1:26379,h2:26379/<master name>[/db]`.
 * ioredis asks the sentinels for the master, and asks again after a failover. Any other URL
 * (`redis://`, `rediss://`) is one server, parsed by ioredis itself.
 */
export function sentinelOptions(url: string): RedisOptions | null {
  const match = /^redis\+sentinels?:\/\/(?:([^@/]*)@)?([^/]+)\/([^/?]+)(?:\/(\d+))?\/?$/.exec(url);
  if (!match) return null;
  const [, auth, hosts, name, db] = match;
  const password = auth ? decodeURIComponent(auth.replace(/^[^:]*:/, '')) || undefined : undefined;
  return {
    sentinels: hosts!.split(',').map((entry) => {
      const host = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(entry)!;
      return { host: host[1]!, port: Number(host[2] ?? 26379) };
    }),
    name: decodeURIComponent(name!),
    password,
    db: Number(db ?? 0),
    sentinelRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
  };
}

/** Memory use at or above this share of `maxmemory` makes the relay not ready: the next writes would fail. */
const MEMORY_PRESSURE = 0.9;

/**
 * Redis as /readyz sees it: `down` when it does not answer, `memory_full` when it (any master of
 * a Cluster) is close to `maxmemory` (with `noeviction`, writes are refused there, and every intake
 * would answer 503).
 */
export async function redisHealth(redis: RedisClient): Promise<'ok' | 'down' | 'memory_full'> {
  if (redis.status !== 'ready') return 'down';
  const servers: Redis[] = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const infos = await Promise.all(servers.map((server) => server.info('memory')));
  const full = infos.some((info) => {
    const value = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
    const max = value('maxmemory');
    return max > 0 && value('used_memory') >= max * MEMORY_PRESSURE;
  });
  return full ? 'memory_full' : 'ok';
}
