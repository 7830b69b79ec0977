import { type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePorts, killChild, makeOwnedTempDir, onProcessExit, removeStaleTempDirs, run, spawnDying, tailFile, waitUntil } from './process-utils.js';

/**
 * A real Redis Cluster of the test's own: `masters` (≥ 3) `redis-server --cluster-enabled yes` on
 * free ports in a temp folder, joined with `redis-cli --cluster create … --cluster-replicas 0`, and
 * ready only once `CLUSTER INFO` says `cluster_state:ok` on every node and every node knows all the
 * others. Never the machine's own Redis on 6379.
 *
 * Why: BullMQ on a cluster only works when all of a queue's keys hash to one slot, i.e. with a
 * hash-tag prefix such as `{relay}`; only a real cluster rejects the CROSSSLOT scripts that a
 * wrong prefix produces.
 *
 * Ports: the cluster bus normally listens on port + 10000, which is past 65535 for most ephemeral
 * ports, so each node gets its own free `cluster-port` (Redis ≥ 7) as well.
 *
 * Clients (ioredis): `new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: null } })`
 * — BullMQ refuses a Worker connection whose maxRetriesPerRequest is not null, and on a Cluster that
 * option lives in `redisOptions`.
 */
export interface RedisClusterOptions {
  /** Number of masters (no replicas); redis-cli needs at least 3. Default 3. */
  masters?: number;
  /** `cluster-node-timeout`; default 5000 ms. */
  nodeTimeoutMs?: number;
  /**
   * How the nodes are joined. `'redis-cli'` (default): `redis-cli --cluster create … --cluster-yes`,
   * the standard tool; it sleeps in whole seconds while waiting for the join (~2 s here). `'meet'`:
   * the same layout done directly (CLUSTER ADDSLOTSRANGE per node, SET-CONFIG-EPOCH, CLUSTER MEET
   * with the bus port, every node meeting every other). Either way a node reports
   * `cluster_state:ok` no sooner than 2 s after it started (Redis' CLUSTER_WRITABLE_DELAY), so
   * `'meet'` only saves redis-cli's whole-second sleeps (0–1 s).
   */
  join?: 'redis-cli' | 'meet';
}

export interface RedisNodeAddress {
  host: string;
  port: number;
}

export interface TestRedisCluster {
  nodes: RedisNodeAddress[];
  /** `127.0.0.1:p1,127.0.0.1:p2,…` (the form an env var would carry) */
  nodesString: string;
  dir: string;
  /** Milliseconds spent in startRedisCluster (servers up, cluster created, state ok everywhere). */
  startupMs: number;
  /** SIGKILLs every node (the folder is kept). */
  stop(): Promise<void>;
  /** stop() and delete the folder. */
  remove(): Promise<void>;
}

const DIR_PREFIX = 'relay-redis-cluster-';
const HOST = '127.0.0.1';

/** PING until a redis-server answers (each probe its own short-lived client). */
export async function waitForRedisPing(port: number, host = HOST, timeoutMs = 10_000): Promise<void> {
  await waitUntil(
    async () => {
      const probe = new Redis(port, host, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
      probe.on('error', () => {});
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } finally {
        probe.disconnect();
      }
    },
    { timeoutMs, intervalMs: 20, message: `redis-server on ${host}:${port}` },
  );
}

/** One command on a fresh connection; for probes and setup, not for tests' traffic. */
export async function redisCommand(port: number, command: string, args: (string | number)[] = [], host = HOST): Promise<unknown> {
  const client = new Redis(port, host, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.call(command, ...args);
  } finally {
    client.disconnect();
  }
}

/** `key:value` lines (INFO, CLUSTER INFO) as an object. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** Slots split as redis-cli does (equal ranges, the last node takes the remainder), epochs 1..n, then MEET. */
async function meetDirectly(nodes: RedisNodeAddress[], ports: number[]): Promise<void> {
  const per = Math.floor(16384 / nodes.length);
  await Promise.all(
    nodes.map(async (n, i) => {
      const first = i * per;
      const last = i === nodes.length - 1 ? 16383 : first + per - 1;
      await redisCommand(n.port, 'CLUSTER', ['ADDSLOTSRANGE', first, last]);
      await redisCommand(n.port, 'CLUSTER', ['SET-CONFIG-EPOCH', i + 1]);
    }),
  );
  // Every node meets every other one (gossip alone needs ~1 s per hop to spread a node); the bus
  // port is not port + 10000 here, so MEET must name it (Redis >= 7: third argument).
  await Promise.all(
    nodes.flatMap((from, i) =>
      nodes.map((to, j) => (i === j ? null : redisCommand(from.port, 'CLUSTER', ['MEET', to.host, to.port, ports[j * 2 + 1]!]))),
    ),
  );
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<TestRedisCluster> {
  const started = Date.now();
  const masters = options.masters ?? 3;
  if (masters < 3) throw new Error('startRedisCluster: redis-cli --cluster create needs at least 3 masters');
  const ports = await freePorts(masters * 2);
  const dir = makeOwnedTempDir(DIR_PREFIX);
  const children: ChildProcess[] = [];
  const nodes: RedisNodeAddress[] = [];

  const stop = async () => {
    await Promise.all(children.map((child) => killChild(child)));
  };
  const unregisterExit = onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
  const remove = async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    unregisterExit();
  };

  try {
    for (let i = 0; i < masters; i++) {
      const port = ports[i * 2]!;
      const busPort = ports[i * 2 + 1]!;
      const nodeDir = join(dir, String(port));
      mkdirSync(nodeDir);
      const child = spawnDying(
        'redis-server',
        [
          '--port', String(port), '--bind', HOST, '--dir', nodeDir,
          '--cluster-enabled', 'yes', '--cluster-port', String(busPort),
          '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 5000),
          '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction',
          '--logfile', join(nodeDir, 'redis.log'),
        ],
        { stdio: 'ignore' },
      );
      children.push(child);
      nodes.push({ host: HOST, port });
    }
    await Promise.all(nodes.map((n) => waitForRedisPing(n.port)));

    if ((options.join ?? 'redis-cli') === 'redis-cli') {
      await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `${n.host}:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
        timeoutMs: 30_000,
      });
    } else {
      await meetDirectly(nodes, ports);
    }

    // redis-cli returns once the configuration has propagated; wait until each node agrees too.
    await Promise.all(
      nodes.map((n) =>
        waitUntil(
          async () => {
            const info = parseInfo(String(await redisCommand(n.port, 'CLUSTER', ['INFO'])));
            return info.cluster_state === 'ok' && Number(info.cluster_known_nodes) === masters && Number(info.cluster_slots_assigned) === 16384;
          },
          { timeoutMs: 15_000, intervalMs: 50, message: `cluster_state:ok on ${n.host}:${n.port}` },
        ),
      ),
    );
  } catch (error) {
    const log = nodes[0] ? tailFile(join(dir, String(nodes[0].port), 'redis.log')) : '';
    await remove();
    throw new Error(`${(error as Error).message}${log ? `\n--- first node's log ---\n${log}` : ''}`, { cause: error });
  }

  return {
    nodes,
    nodesString: nodes.map((n) => `${n.host}:${n.port}`).join(','),
    dir,
    startupMs: Date.now() - started,
    stop,
    remove,
  };
}

/** Removes the folders of earlier runs that were killed (their redis-servers died with them: pdeathsig). */
export function removeStaleRedisClusters(): string[] {
  return removeStaleTempDirs(DIR_PREFIX);
}
