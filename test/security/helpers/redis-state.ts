import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

/**
 * Looking at a relay's Redis from the outside: every key under its QUEUE_PREFIX dumped as text
 * (strings, hashes, lists, sets, sorted sets, streams), and BullMQ's view of both delivery queues.
 */

export const QUEUES = ['alerts-ongoing', 'alerts-initial'] as const;

export interface RedisInspector {
  redis: Redis;
  queues: Record<(typeof QUEUES)[number], Queue>;
  /** every key of the prefix with its whole value, one block per key */
  dump(): Promise<string>;
  keys(): Promise<string[]>;
  /** jobs of both queues, all states together (counted by their hashes) */
  jobTotal(): Promise<number>;
  /** per queue, BullMQ's counts by state */
  jobCounts(): Promise<Record<string, Record<string, number>>>;
  /** the ids of every job of both queues, sorted */
  jobIds(): Promise<string[]>;
  close(): Promise<void>;
}

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'waiting-children'] as const;

export function inspectRedis(url: string, prefix: string): RedisInspector {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: false });
  redis.on('error', () => {});
  const connections: Redis[] = [];
  const queues = Object.fromEntries(
    QUEUES.map((name) => {
      const connection = new Redis(url, { maxRetriesPerRequest: null });
      connection.on('error', () => {});
      connections.push(connection);
      const queue = new Queue(name, { connection, prefix });
      queue.on('error', () => {});
      return [name, queue];
    }),
  ) as RedisInspector['queues'];

  const keys = async () => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
    return [...new Set(found)].sort();
  };

  const jobKey = new RegExp(`^${prefix}:(${QUEUES.join('|')}):[^:]+$`);
  const special = new Set(['id', 'meta', 'events', 'wait', 'paused', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'stalled', 'stalled-check', 'marker', 'limiter', 'pc', 'de', 'repeat', 'waiting-children']);
  const jobKeys = async () => (await keys()).filter((key) => jobKey.test(key) && !special.has(key.split(':').at(-1)!));

  const valueOf = async (key: string): Promise<string> => {
    const type = await redis.type(key);
    switch (type) {
      case 'string':
        return (await redis.getBuffer(key))?.toString('latin1') ?? '';
      case 'hash':
        return JSON.stringify(await redis.hgetall(key));
      case 'list':
        return JSON.stringify(await redis.lrange(key, 0, -1));
      case 'set':
        return JSON.stringify(await redis.smembers(key));
      case 'zset':
        return JSON.stringify(await redis.zrange(key, 0, -1, 'WITHSCORES'));
      case 'stream':
        return JSON.stringify(await redis.xrange(key, '-', '+'));
      case 'none':
        return '';
      default:
        return `<${type}>`;
    }
  };

  return {
    redis,
    queues,
    keys,
    async dump() {
      const out: string[] = [];
      for (const key of await keys()) out.push(`${key} = ${await valueOf(key)}`);
      return out.join('\n');
    },
    async jobCounts() {
      const result: Record<string, Record<string, number>> = {};
      for (const name of QUEUES) result[name] = await queues[name].getJobCounts(...STATES);
      return result;
    },
    // by the jobs' hashes (`<prefix>:<queue>:<job id>`): a job is counted once whatever state it is
    // moving through, where summing getJobCounts() could see it twice or not at all
    async jobTotal() {
      return (await jobKeys()).length;
    },
    async jobIds() {
      return (await jobKeys()).map((key) => key.slice(prefix.length + 1).replace(':', '/')).sort();
    },
    async close() {
      await Promise.all(Object.values(queues).map((queue) => queue.close().catch(() => {})));
      for (const connection of connections) connection.disconnect();
      redis.disconnect();
    },
  };
}
