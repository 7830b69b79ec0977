import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSlackSandbox, type SlackSandbox, type SlackSandboxOptions } from '../../src/sandbox/index.js';
import { freePort } from './redis-server.js';
import { databaseEnv } from './test-db.js';
import { apiClient, createSubscription, waitForAlert, type Api } from './api-client.js';

/**
 * The relay as REAL separate processes, the way a Procfile platform runs it: the release phase
 * (`node dist/src/db/migrate-cli.js`), one web process (`node dist/src/server.js`) and any number
 * of worker processes (`node dist/workers/worker.js`), all sharing one SQLite file in a temp folder,
 * the test's own redis-server and a Slack sandbox in the test process.
 *
 * Tests run the compiled `dist/` files: build first (`npm run build`; `npm test` does it in pretest).
 * Every process's stdout and stderr are captured (`output()`, `logs()`) for assertions and for the
 * failure messages, and every process is SIGKILLed by `close()`.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_JS = join(ROOT, 'dist/src/server.js');
const WORKER_JS = join(ROOT, 'dist/workers/worker.js');
const MIGRATE_JS = join(ROOT, 'dist/src/db/migrate-cli.js');

export const PROCESS_BOT_TOKEN = 'xoxb-7777777777-8888888888-procPROCprocPROCproc';


export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when the process exited */
  at: number;
}

export interface LogLine {
  level?: number;
  msg?: string;
  [key: string]: unknown;
}

export interface RelayChild {
  name: string;
  child: ChildProcess;
  pid: number;
  /** stdout and stderr, interleaved as they arrived */
  output(): string;
  /** stdout's JSON log lines (pino) */
  logs(): LogLine[];
  /** true until the process has exited */
  alive(): boolean;
  /** resolves once the process has exited (never rejects) */
  exited: Promise<ExitInfo>;
  /** SIGKILL: a crash, nothing runs any more; resolves with the exit */
  kill(): Promise<ExitInfo>;
  /** SIGTERM: a graceful stop; does not wait (await `exited` for that) */
  terminate(): void;
  /** resolves when a stdout/stderr line matches; rejects on timeout or if the process exits first */
  waitForOutput(pattern: string | RegExp, timeoutMs?: number): Promise<string>;
  /** whether the process holds an established TCP connection to 127.0.0.1:port (Linux /proc) */
  connectedTo(port: number): boolean;
}

export interface RelayProcessesOptions {
  redisUrl: string;
  /** extra env for every process (after the defaults) */
  env?: Record<string, string>;
  sandbox?: SlackSandboxOptions;
}

export interface RelayProcesses {
  dir: string;
  sandbox: SlackSandbox;
  /** an admin key (ADMIN_API_KEYS): `api` uses it */
  apiKey: string;
  /** an intake key (API_KEYS) */
  intakeKey: string;
  /** a free port whose 127.0.0.1 origin is in ALLOWED_API_URLS, for a second Slack stand-in */
  spareApiPort: number;
  queuePrefix: string;
  port: number;
  url: string;
  /** the environment every process gets (overrides per process come on top) */
  env: Record<string, string>;
  web: RelayChild | null;
  workers: RelayChild[];
  /** `node dist/src/db/migrate-cli.js` (the release phase) */
  migrate(): Promise<void>;
  /** the web process, resolved once /readyz answers 200 */
  startWeb(env?: Record<string, string>): Promise<RelayChild>;
  /** a worker process, resolved once it logged "worker process consuming" */
  startWorker(env?: Record<string, string>): Promise<RelayChild>;
  waitForReady(timeoutMs?: number): Promise<void>;
  api: Api;
  createSubscription(overrides?: Record<string, unknown>): Promise<any>;
  /** POSTs one alert and expects 202; returns its id */
  sendAlert(body: Record<string, unknown>, headers?: Record<string, string>): Promise<string>;
  waitForAlert(id: string, statuses?: string[], timeoutMs?: number): Promise<any>;
  /** every captured output, for failure messages */
  dump(): string;
  close(): Promise<void>;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a truthy value; throws with `describe()` on timeout. */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 25, describe = () => '' }: { timeoutMs?: number; intervalMs?: number; describe?: () => string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms ${describe()}`);
    await sleep(intervalMs);
  }
}

export async function startRelayProcesses(options: RelayProcessesOptions): Promise<RelayProcesses> {
  const dir = mkdtempSync(join(tmpdir(), 'relay-procs-'));
  const sandbox = createSlackSandbox(options.sandbox);
  await sandbox.listen(0);
  const port = await freePort();
  // a second Slack stand-in a test may start (`listen(spareApiPort)`): an allowed origin too (§6.2)
  const spareApiPort = await freePort();
  const apiKey = `proc_${randomBytes(12).toString('hex')}`;
  const intakeKey = `intake_${randomBytes(12).toString('hex')}`;
  const queuePrefix = `p${randomBytes(6).toString('hex')}`;
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    NODE_ENV: 'test',
    PORT: String(port),
    PUBLIC_URL: url,
    ...(await databaseEnv(dir)),
    REDIS_URL: options.redisUrl,
    QUEUE_PREFIX: queuePrefix,
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    API_KEYS: intakeKey,
    ADMIN_API_KEYS: apiKey,
    ADMIN_PASSWORD: randomBytes(12).toString('hex'),
    SLACK_API_URL: sandbox.apiUrl,
    ALLOWED_API_URLS: `http://127.0.0.1:${spareApiPort}`,
    WORKER_LOCK_MS: '1000',
    STALLED_INTERVAL_MS: '500',
    RETRY_BASE_MS: '100',
    SLACK_TIMEOUT_MS: '5000',
    LOG_LEVEL: 'info',
    ...options.env,
  };

  const children: RelayChild[] = [];
  let workerCount = 0;
  let migrated = false;

  const spawnChild = (name: string, script: string, extraEnv: Record<string, string> = {}): RelayChild => {
    const child = spawn(process.execPath, [script], {
      cwd: dir,
      env: { ...env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let stdout = '';
    const listeners = new Set<() => void>();
    const append = (chunk: Buffer, isStdout: boolean) => {
      const text = chunk.toString('utf8');
      output += text;
      if (isStdout) stdout += text;
      for (const listener of listeners) listener();
    };
    child.stdout!.on('data', (chunk: Buffer) => append(chunk, true));
    child.stderr!.on('data', (chunk: Buffer) => append(chunk, false));
    let exitInfo: ExitInfo | null = null;
    let exitAt = 0;
    child.once('exit', () => (exitAt = Date.now()));
    const exited = new Promise<ExitInfo>((resolve) => {
      // resolved on 'close', not 'exit': by then stdout and stderr are drained, so output() is
      // complete; `at` is still the moment of the exit
      child.once('close', (code, signal) => {
        exitInfo = { code, signal, at: exitAt || Date.now() };
        for (const listener of listeners) listener();
        resolve(exitInfo);
      });
    });
    const handle: RelayChild = {
      name,
      child,
      pid: child.pid!,
      output: () => output,
      logs: () =>
        stdout
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .flatMap((line) => {
            try {
              return [JSON.parse(line) as LogLine];
            } catch {
              return [];
            }
          }),
      alive: () => exitInfo === null && child.exitCode === null && child.signalCode === null,
      exited,
      async kill() {
        if (handle.alive()) child.kill('SIGKILL');
        return exited;
      },
      terminate() {
        if (handle.alive()) child.kill('SIGTERM');
      },
      connectedTo: (port) => tcpConnectedTo(child.pid!, port),
      waitForOutput(pattern, timeoutMs = 15_000) {
        const matches = () => (typeof pattern === 'string' ? output.includes(pattern) : pattern.test(output));
        return new Promise<string>((resolve, reject) => {
          const done = () => {
            clearTimeout(timer);
            listeners.delete(check);
          };
          const check = () => {
            if (matches()) {
              done();
              resolve(output);
            } else if (exitInfo) {
              done();
              reject(new Error(`${name} exited (${JSON.stringify(exitInfo)}) before printing ${String(pattern)}:\n${output}`));
            }
          };
          const timer = setTimeout(() => {
            listeners.delete(check);
            reject(new Error(`${name} did not print ${String(pattern)} within ${timeoutMs} ms:\n${output}`));
          }, timeoutMs);
          listeners.add(check);
          check();
        });
      },
    };
    children.push(handle);
    return handle;
  };

  const api = apiClient(() => url, apiKey);

  const relay: RelayProcesses = {
    dir,
    sandbox,
    apiKey,
    intakeKey,
    spareApiPort,
    queuePrefix,
    port,
    url,
    env,
    web: null,
    workers: [],

    async migrate() {
      await new Promise<void>((resolve, reject) => {
        execFile(process.execPath, [MIGRATE_JS], { cwd: dir, env, timeout: 30_000 }, (error, stdout, stderr) => {
          if (error) reject(new Error(`migrations failed: ${error.message}\n${stdout}\n${stderr}`));
          else resolve();
        });
      });
      migrated = true;
    },

    async startWeb(extraEnv = {}) {
      if (!migrated) await relay.migrate();
      const web = spawnChild('web', SERVER_JS, extraEnv);
      relay.web = web;
      await web.waitForOutput('web process listening');
      await relay.waitForReady();
      return web;
    },

    async startWorker(extraEnv = {}) {
      // a worker does not migrate: the release phase (or the web process) does
      if (!migrated) await relay.migrate();
      workerCount += 1;
      const worker = spawnChild(`worker.${workerCount}`, WORKER_JS, extraEnv);
      relay.workers.push(worker);
      await worker.waitForOutput('worker process consuming');
      return worker;
    },

    async waitForReady(timeoutMs = 15_000) {
      let last = '';
      await waitUntil(
        async () => {
          const res = await fetch(`${url}/readyz`).catch((error: Error) => error);
          if (res instanceof Error) {
            last = res.message;
            return false;
          }
          last = `${res.status} ${await res.text()}`;
          return res.status === 200;
        },
        { timeoutMs, intervalMs: 50, describe: () => `for /readyz; last: ${last}\n${relay.dump()}` },
      );
    },

    api,

    createSubscription: (overrides = {}) => createSubscription(api, { apiUrl: sandbox.apiUrl, apiToken: PROCESS_BOT_TOKEN }, overrides),

    async sendAlert(body, headers) {
      const res = await api('POST', '/api/v1/alerts', { text: 'Disk almost full', ...body }, headers);
      if (res.status !== 202) throw new Error(`send alert: ${res.status} ${res.text}`);
      return res.body.id as string;
    },

    waitForAlert: (id, statuses, timeoutMs) => waitForAlert(api, id, statuses, timeoutMs, () => relay.dump()),

    dump() {
      return children.map((c) => `----- ${c.name} (pid ${c.pid}) -----\n${c.output()}`).join('\n');
    },

    async close() {
      await Promise.all(children.map((c) => c.kill()));
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return relay;
}

/**
 * Which process talks to a port: the inodes of `pid`'s sockets (/proc/<pid>/fd) against the
 * established IPv4/IPv6 connections to 127.0.0.1:port in /proc/net/tcp{,6}. Linux only, like `ps`
 * in the e2e tests.
 */
export function tcpConnectedTo(pid: number, port: number): boolean {
  let inodes: Set<string>;
  try {
    inodes = new Set(
      readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
        try {
          const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
          return match ? [match[1]!] : [];
        } catch {
          return [];
        }
      }),
    );
  } catch {
    return false; // the process is gone
  }
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // cols: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (cols.length < 10) continue;
      const [, , remote, state, , , , , , inode] = cols;
      if (state === '01' && remote!.endsWith(`:${portHex}`) && inodes.has(inode!)) return true;
    }
  }
  return false;
}
