import { type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts, killChild, makeOwnedTempDir, onProcessExit, removeStaleTempDirs, spawnDying, tailFile, waitUntil } from './process-utils.js';
import { parseInfo, redisCommand, waitForRedisPing, type RedisNodeAddress } from './redis-cluster.js';

/**
 * A real Redis Sentinel set of the test's own: one master, one replica (`--replicaof`) and three
 * sentinels (`redis-server --sentinel`), all on free ports in a temp folder, with short timeouts
 * (`down-after-milliseconds 1000`, `failover-timeout 3000`) so that a failover takes seconds.
 * Never the machine's own Redis on 6379.
 *
 * Why: clients configured with `{ sentinels, name }` must survive the master dying — only real
 * sentinels electing a leader and promoting the replica show whether they reconnect to the new
 * master by themselves.
 *
 * Fast start: each sentinel.conf is written the way Sentinel itself would rewrite it — with its own
 * `sentinel myid`, the replica (`known-replica`) and the other sentinels (`known-sentinel`) — so the
 * sentinels do not have to discover one another over the hello channel (every 2 s) before they can
 * reach a quorum. Everything is addressed by IP (`sentinel resolve-hostnames no`): with hostnames,
 * Sentinel needs `resolve-hostnames yes` (and `announce-hostnames` for what it reports).
 * Each sentinel gets its own, writable config file: Sentinel refuses to start otherwise, and
 * rewrites it on every state change.
 */
export interface RedisSentinelOptions {
  /** Default `mymaster`. */
  masterName?: string;
  /** Number of sentinels; default 3. */
  sentinels?: number;
  /** Default 2. */
  quorum?: number;
  /** `down-after-milliseconds`; default 1000. */
  downAfterMs?: number;
  /** `failover-timeout`; default 3000. */
  failoverTimeoutMs?: number;
}

export interface TestRedisSentinel {
  masterName: string;
  sentinels: RedisNodeAddress[];
  /** `redis+sentinel://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3/mymaster` */
  sentinelUrl: string;
  /** The master at start (after a failover: the dead one). */
  master: RedisNodeAddress;
  /** The replica at start (after a failover: the new master). */
  replica: RedisNodeAddress;
  dir: string;
  /** Milliseconds spent in startRedisSentinel (all up, replica synced, every sentinel sees the others). */
  startupMs: number;
  /** What the sentinels answer for `SENTINEL get-master-addr-by-name` (the first one that answers). */
  currentMaster(): Promise<RedisNodeAddress | null>;
  /** SIGKILLs the master (no restart: the replica is meant to take over). */
  killMaster(): Promise<void>;
  /**
   * Resolves when every sentinel reports the former replica as the master; answers its address and
   * the milliseconds since killMaster() (or since the call, if the master was not killed by it).
   */
  waitForFailover(timeoutMs?: number): Promise<RedisNodeAddress & { ms: number }>;
  /** Kills every process and deletes the folder. */
  remove(): Promise<void>;
}

const DIR_PREFIX = 'relay-redis-sentinel-';
const HOST = '127.0.0.1';

async function masterAddr(sentinel: RedisNodeAddress, name: string): Promise<RedisNodeAddress | null> {
  const reply = (await redisCommand(sentinel.port, 'SENTINEL', ['GET-MASTER-ADDR-BY-NAME', name], sentinel.host)) as [string, string] | null;
  return reply ? { host: reply[0], port: Number(reply[1]) } : null;
}

/** `SENTINEL MASTER <name>`: a flat [field, value, …] array, as an object. */
async function sentinelMasterState(sentinel: RedisNodeAddress, name: string): Promise<Record<string, string>> {
  const flat = (await redisCommand(sentinel.port, 'SENTINEL', ['MASTER', name], sentinel.host)) as string[];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

export async function startRedisSentinel(options: RedisSentinelOptions = {}): Promise<TestRedisSentinel> {
  const started = Date.now();
  const masterName = options.masterName ?? 'mymaster';
  const sentinelCount = options.sentinels ?? 3;
  const quorum = options.quorum ?? 2;
  const [masterPort, replicaPort, ...sentinelPorts] = await freePorts(2 + sentinelCount);
  const master: RedisNodeAddress = { host: HOST, port: masterPort! };
  const replica: RedisNodeAddress = { host: HOST, port: replicaPort! };
  const sentinels: RedisNodeAddress[] = sentinelPorts.map((port) => ({ host: HOST, port }));
  const ids = sentinels.map(() => randomBytes(20).toString('hex'));
  const dir = makeOwnedTempDir(DIR_PREFIX);
  const children = new Map<string, ChildProcess>();
  let killedAt: number | undefined;

  const startRedis = (name: string, args: string[]) => {
    const nodeDir = join(dir, name);
    mkdirSync(nodeDir, { recursive: true });
    children.set(name, spawnDying('redis-server', [...args, '--logfile', join(nodeDir, 'redis.log')], { stdio: 'ignore', cwd: nodeDir }));
  };
  const dataArgs = (name: string, port: number) => [
    '--port', String(port), '--bind', HOST, '--dir', join(dir, name), '--save', '', '--appendonly', 'no',
    // Redis 7 waits 5 s before a diskless full sync (for more replicas to join): not here.
    '--repl-diskless-sync-delay', '0',
  ];

  const unregisterExit = onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
  const remove = async () => {
    await Promise.all([...children.values()].map((child) => killChild(child)));
    rmSync(dir, { recursive: true, force: true });
    unregisterExit();
  };

  try {
    startRedis('master', dataArgs('master', master.port));
    startRedis('replica', [...dataArgs('replica', replica.port), '--replicaof', HOST, String(master.port)]);
    await Promise.all([waitForRedisPing(master.port), waitForRedisPing(replica.port)]);
    await waitUntil(async () => parseInfo(String(await redisCommand(replica.port, 'INFO', ['replication']))).master_link_status === 'up', {
      timeoutMs: 10_000,
      message: 'the replica to sync with the master',
    });

    sentinels.forEach((sentinel, i) => {
      const name = `sentinel-${sentinel.port}`;
      mkdirSync(join(dir, name));
      const conf = join(dir, name, 'sentinel.conf');
      writeFileSync(
        conf,
        [
          `port ${sentinel.port}`,
          `bind ${HOST}`,
          `dir ${join(dir, name)}`,
          `sentinel myid ${ids[i]}`,
          'sentinel resolve-hostnames no',
          'sentinel announce-hostnames no',
          `sentinel monitor ${masterName} ${HOST} ${master.port} ${quorum}`,
          `sentinel down-after-milliseconds ${masterName} ${options.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${masterName} ${options.failoverTimeoutMs ?? 3000}`,
          `sentinel parallel-syncs ${masterName} 1`,
          `sentinel known-replica ${masterName} ${HOST} ${replica.port}`,
          ...sentinels.flatMap((other, j) => (j === i ? [] : [`sentinel known-sentinel ${masterName} ${HOST} ${other.port} ${ids[j]}`])),
          '',
        ].join('\n'),
      );
      startRedis(name, [conf, '--sentinel']);
    });
    await Promise.all(sentinels.map((s) => waitForRedisPing(s.port)));
    // Ready when every sentinel monitors the master, sees the replica and knows all other sentinels.
    await Promise.all(
      sentinels.map((s) =>
        waitUntil(
          async () => {
            const state = await sentinelMasterState(s, masterName);
            if (state.flags !== 'master' || Number(state['num-slaves']) < 1 || Number(state['num-other-sentinels']) !== sentinelCount - 1) return false;
            // …and has a working link to each of them (a sentinel started a moment later than the
            // others shows as s_down/disconnected for them at first): votes go over these links.
            const others = (await redisCommand(s.port, 'SENTINEL', ['SENTINELS', masterName], s.host)) as string[][];
            return others.every((flat) => flat[flat.indexOf('flags') + 1] === 'sentinel');
          },
          { timeoutMs: 15_000, message: `sentinel ${s.port} to see the master, the replica and the other sentinels` },
        ),
      ),
    );
  } catch (error) {
    const logs = [...children.keys()].map((name) => `--- ${name} ---\n${tailFile(join(dir, name, 'redis.log'), 8)}`).join('\n');
    await remove();
    throw new Error(`${(error as Error).message}\n${logs}`, { cause: error });
  }

  const currentMaster = async () => {
    for (const s of sentinels) {
      try {
        return await masterAddr(s, masterName);
      } catch {
        /* try the next sentinel */
      }
    }
    return null;
  };

  return {
    masterName,
    sentinels,
    sentinelUrl: `redis+sentinel://${sentinels.map((s) => `${s.host}:${s.port}`).join(',')}/${masterName}`,
    master,
    replica,
    dir,
    startupMs: Date.now() - started,
    currentMaster,
    killMaster: async () => {
      killedAt = Date.now();
      await killChild(children.get('master'));
    },
    waitForFailover: async (timeoutMs = 20_000) => {
      const since = killedAt ?? Date.now();
      await waitUntil(
        async () => {
          const answers = await Promise.all(sentinels.map((s) => masterAddr(s, masterName)));
          return answers.every((a) => a?.port === replica.port);
        },
        { timeoutMs, intervalMs: 50, message: `the sentinels to promote the replica ${replica.host}:${replica.port}` },
      );
      // The promoted replica must also have noticed (role:master) before writes can succeed.
      await waitUntil(async () => parseInfo(String(await redisCommand(replica.port, 'INFO', ['replication']))).role === 'master', {
        timeoutMs: 5_000,
        message: 'the replica to become a master',
      });
      return { ...replica, ms: Date.now() - since };
    },
    remove,
  };
}

/** Removes the folders of earlier runs that were killed (their redis-servers died with them: pdeathsig). */
export function removeStaleRedisSentinels(): string[] {
  return removeStaleTempDirs(DIR_PREFIX);
}
