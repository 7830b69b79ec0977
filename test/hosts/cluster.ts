import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { readProcfile } from '../../src/launcher/procfile.js';
import { createNetwork, netnsUnavailableReason, removeStaleNetworks, type NetnsRunResult, type TestNetwork } from '../helpers/netns.js';
import { removeStalePostgresServers, startPostgresServer, type TestPostgres } from '../helpers/postgres-server.js';
import { freePorts, onProcessExit, spawnDying, waitUntil } from '../helpers/process-utils.js';
import { trackProcess, type HostProcess } from './host-process.js';

/**
 * The machines of the many-hosts test: one "infra" host (redis-server and PostgreSQL), web hosts
 * and worker hosts, each its own network namespace (test/helpers/netns.ts) with its own empty
 * working folder, and a leg of the test's own namespace into their bridge (`rootLeg`), on whose
 * address the test process runs its Slack sandbox and from which it calls the web hosts.
 *
 * Why a root leg (and not the load and the sandbox inside namespaces, reporting through files):
 * the test can then hold the sandbox in process (its message list is exact and immediate, and
 * `GET /messages.json` is one fetch away), time every request itself, read Redis and PostgreSQL
 * directly for the figures, and SIGKILL a worker at a chosen moment — with no second protocol to
 * get wrong. The leg is a /24 route to the hosts' subnet only; the hosts get no route to anything
 * else, and the machine's own loopback services stay unreachable from them (asserted).
 *
 * Where `ip netns` is refused (`netnsAvailable()` false), or MANY_HOSTS_FALLBACK=1, every process
 * runs in the machine's namespace on 127.0.0.1 with free ports, still each with its own folder
 * and HOME: `mode` is then 'fallback' and `fallbackReason` says why.
 */

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type Role = 'infra' | 'web' | 'worker';

export interface Host {
  name: string;
  role: Role;
  /** the address the other hosts (and the test) reach this host at */
  address: string;
  /** its network namespace, null in fallback mode */
  ns: string | null;
  /** its working folder: a fresh, empty temp folder (cwd and HOME of everything run there) */
  dir: string;
  spawn(command: string, args: readonly string[], options: SpawnOptions): ChildProcess;
  run(command: string, args: readonly string[], options: SpawnOptions & { timeoutMs?: number }): Promise<NetnsRunResult>;
}

export interface ManyHosts {
  mode: 'netns' | 'fallback';
  fallbackReason: string | null;
  network: TestNetwork | null;
  /** where servers of the test process listen so that every host reaches them */
  testAddress: string;
  infra: Host;
  webs: Host[];
  workers: Host[];
  redis: { url: string; address: string; port: number; dir: string; process: HostProcess };
  postgres: TestPostgres;
  remove(): Promise<void>;
}

function collect(child: ChildProcess, label: string, timeoutMs: number): Promise<NetnsRunResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${label} timed out after ${timeoutMs} ms\n${stdout}${stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * A commit must be in the WAL when PostgreSQL says it is, as on any production server: the
 * helper's default (`synchronous_commit = off`, for speed) loses the last ~200 ms of commits on
 * `kill()`, i.e. alerts already answered 202. fsync stays off: the machine does not crash here,
 * only the postgres processes do, and the page cache survives them.
 */
const PG_SETTINGS = { synchronous_commit: true };

function hostDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `relay-host-${name}-`));
}

export async function createManyHosts({ webs = 2, workers = 3 } = {}): Promise<ManyHosts> {
  const forced = process.env.MANY_HOSTS_FALLBACK === '1';
  const reason = forced ? 'MANY_HOSTS_FALLBACK=1' : await netnsUnavailableReason();
  const names: [string, Role][] = [
    ['infra', 'infra'],
    ...Array.from({ length: webs }, (_, i): [string, Role] => [`web${i + 1}`, 'web']),
    ...Array.from({ length: workers }, (_, i): [string, Role] => [`worker${i + 1}`, 'worker']),
  ];
  const dirs: string[] = [];
  const unregisterDirs = onProcessExit(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  let network: TestNetwork | null = null;
  let hosts: Host[];

  if (reason === null) {
    await removeStaleNetworks();
    removeStalePostgresServers();
    network = await createNetwork('hosts', names.length, { rootLeg: true });
    const net = network;
    hosts = names.map(([name, role], index) => {
      const dir = hostDir(name);
      dirs.push(dir);
      return {
        name,
        role,
        address: net.hosts[index]!.address,
        ns: net.hosts[index]!.ns,
        dir,
        spawn: (command, args, options) => net.exec(index, command, args, options),
        run: (command, args, options) => net.run(index, command, args, options),
      };
    });
  } else {
    hosts = names.map(([name, role]) => {
      const dir = hostDir(name);
      dirs.push(dir);
      return {
        name,
        role,
        address: '127.0.0.1',
        ns: null,
        dir,
        spawn: (command, args, options) => spawnDying(command, args, options),
        run: (command, args, { timeoutMs = 30_000, ...options }) =>
          collect(spawn(command, [...args], { ...options, stdio: ['ignore', 'pipe', 'pipe'] }), `${command} ${args.join(' ')}`, timeoutMs),
      };
    });
  }
  const infra = hosts[0]!;

  // Redis on the infra host: its own address, AOF on, no RDB snapshots, no eviction.
  const redisPort = network ? 6379 : (await freePorts(1))[0]!;
  const redisDir = mkdtempSync(join(tmpdir(), 'relay-hosts-redis-'));
  dirs.push(redisDir);
  const redisProcess = trackProcess(
    'redis@infra',
    infra.spawn(
      'redis-server',
      [
        '--bind', infra.address, '--port', String(redisPort), '--dir', redisDir,
        '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '',
        '--maxmemory-policy', 'noeviction', '--protected-mode', 'no',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  const probeRedis = async () => {
    if (!redisProcess.alive()) throw new Error(`redis-server exited:\n${redisProcess.output()}`);
    const client = new Redis(redisPort, infra.address, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } finally {
      client.disconnect();
    }
  };
  let postgres: TestPostgres | undefined;
  try {
    await waitUntil(probeRedis, { timeoutMs: 10_000, intervalMs: 50, message: `redis-server on ${infra.address}:${redisPort}` });
    // PostgreSQL on the infra host, listening on its address (and trusting its subnet).
    postgres = network
      ? await startPostgresServer({ netns: infra.ns!, listen: infra.address, port: 5432, database: 'relay_hosts', settings: PG_SETTINGS })
      : await startPostgresServer({ database: 'relay_hosts', settings: PG_SETTINGS });
  } catch (error) {
    await redisProcess.kill();
    await network?.remove();
    dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
    unregisterDirs();
    throw error;
  }
  const pgServer = postgres;

  return {
    mode: network ? 'netns' : 'fallback',
    fallbackReason: reason,
    network,
    testAddress: network ? network.rootAddress! : '127.0.0.1',
    infra,
    webs: hosts.filter((h) => h.role === 'web'),
    workers: hosts.filter((h) => h.role === 'worker'),
    redis: { url: `redis://${infra.address}:${redisPort}`, address: infra.address, port: redisPort, dir: redisDir, process: redisProcess },
    postgres: pgServer,
    async remove() {
      await redisProcess.kill();
      await pgServer.remove().catch(() => {});
      await network?.remove();
      dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
      unregisterDirs();
    },
  };
}

/** OPEN_THROTTLE of bench/lib/relay.ts: the API's maxima, so no subscription limit binds. */
export const OPEN_THROTTLE = {
  initial: { limit: 100_000, seconds: 1, concurrency: 10_000 },
  ongoing: { limit: 100_000, seconds: 1, concurrency: 10_000 },
};

export const BOT_TOKEN = 'xoxb-4444444444-5555555555-hostsHOSTShostsHOSTS';
export const QUEUE_PREFIX = 'relay';

/** `<role>: <command>` of the Procfile as [node, ...flags, absolute script]. */
function procfileArgs(role: 'release' | 'web' | 'worker'): string[] {
  const command = readProcfile(join(ROOT, 'Procfile')).get(role);
  if (!command) throw new Error(`the Procfile has no ${role} entry`);
  const [node, ...args] = command.split(/\s+/);
  if (node !== 'node') throw new Error(`Procfile ${role}: expected a node command, got ${command}`);
  const script = args.pop()!;
  return [...args, join(ROOT, script)];
}

export interface RelayOnHosts {
  adminKey: string;
  intakeKey: string;
  /** the environment a host's process gets */
  envFor(host: Host, port: number): Record<string, string>;
  /** the web hosts' base URLs, in host order (after startWeb) */
  webUrls: string[];
  processes: HostProcess[];
  /** the Procfile's release phase on `host` */
  release(host: Host): Promise<NetnsRunResult>;
  startWeb(host: Host): Promise<HostProcess>;
  startWorker(host: Host): Promise<HostProcess>;
  dump(): string;
  close(): Promise<void>;
}

export interface RelayOnHostsOptions {
  hosts: ManyHosts;
  slackApiUrl: string;
  env?: Record<string, string>;
}

export function relayOnHosts({ hosts, slackApiUrl, env: extra = {} }: RelayOnHostsOptions): RelayOnHosts {
  const adminKey = `admin_${randomBytes(16).toString('hex')}`;
  const intakeKey = `intake_${randomBytes(16).toString('hex')}`;
  const secrets = {
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    API_KEYS: intakeKey,
    ADMIN_API_KEYS: adminKey,
    ADMIN_PASSWORD: randomBytes(12).toString('hex'),
  };
  const processes: HostProcess[] = [];
  const webUrls: string[] = [];
  const webPorts = new Map<Host, number>();

  const envFor = (host: Host, port: number): Record<string, string> => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    // the host's own disk is its working folder: HOME and TMPDIR point into it
    HOME: host.dir,
    TMPDIR: host.dir,
    NODE_ENV: 'test',
    PORT: String(port),
    PUBLIC_URL: `http://${host.address}:${port}`,
    DATABASE_URL: hosts.postgres.url,
    REDIS_URL: hosts.redis.url,
    QUEUE_PREFIX,
    ...secrets,
    // the sandbox by its address, literally: the egress policy lets a private address through only so
    SLACK_API_URL: slackApiUrl,
    INTAKE_RATE_LIMIT: '1000000000',
    THROTTLE_ONGOING_LIMIT: '100000',
    THROTTLE_ONGOING_CONCURRENCY: '10000',
    THROTTLE_INITIAL_LIMIT: '100000',
    THROTTLE_INITIAL_CONCURRENCY: '10000',
    THROTTLE_WINDOW_SECONDS: '1',
    WORKER_LOCK_MS: '1000',
    STALLED_INTERVAL_MS: '500',
    SLACK_TIMEOUT_MS: '3000',
    RETRY_BASE_MS: '100',
    SWEEP_INTERVAL_MS: '1000',
    SWEEP_MIN_AGE_MS: '2000',
    LOG_LEVEL: 'info',
    ...extra,
  });

  const portFor = async (_host: Host): Promise<number> => {
    // each host has its own ports; in fallback mode they share the machine's
    if (hosts.mode === 'netns') return 3000;
    return (await freePorts(1))[0]!;
  };

  const start = (host: Host, role: 'web' | 'worker', port: number): HostProcess => {
    const proc = trackProcess(
      `${role}@${host.name}`,
      host.spawn(process.execPath, procfileArgs(role), { cwd: host.dir, env: envFor(host, port), stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    processes.push(proc);
    return proc;
  };

  const relay: RelayOnHosts = {
    adminKey,
    intakeKey,
    envFor,
    webUrls,
    processes,

    async release(host) {
      const result = await host.run(process.execPath, procfileArgs('release'), {
        cwd: host.dir,
        env: envFor(host, 3000),
        timeoutMs: 60_000,
      });
      if (result.code !== 0) throw new Error(`release on ${host.name} failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
      return result;
    },

    async startWeb(host) {
      const port = await portFor(host);
      webPorts.set(host, port);
      const web = start(host, 'web', port);
      await web.waitForOutput('web process listening', 30_000);
      const url = `http://${host.address}:${port}`;
      await waitUntil(
        async () => {
          if (!web.alive()) throw new Error(`${web.name} exited:\n${web.output()}`);
          return (await fetch(`${url}/readyz`)).status === 200;
        },
        { timeoutMs: 20_000, intervalMs: 50, message: `${url}/readyz` },
      );
      webUrls.push(url);
      return web;
    },

    async startWorker(host) {
      const worker = start(host, 'worker', 3000);
      await worker.waitForOutput('worker process consuming', 30_000);
      return worker;
    },

    dump() {
      return processes.map((p) => `----- ${p.name} (pid ${p.pid}) -----\n${p.output().slice(-6000)}`).join('\n');
    },

    async close() {
      await Promise.all(processes.map((p) => p.kill()));
    },
  };
  return relay;
}
