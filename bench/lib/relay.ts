import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { readProcfile } from '../../src/launcher/procfile.js';
import { freePort, startProc, waitFor, type Proc } from './proc.js';

/**
 * The relay as the Procfile runs it: `node dist/src/server.js` and any number of
 * `node dist/workers/worker.js`, each its own OS process, sharing a fresh SQLite file and the
 * benchmark's redis-server under a queue prefix of their own. Throttles are raised so that only
 * the code paths are measured, not the configured limits.
 */

/** Subscription throttle values at the API's maxima: nothing is delayed at the rates measured. */
export const OPEN_THROTTLE = {
  initial: { limit: 100_000, seconds: 1, concurrency: 10_000 },
  ongoing: { limit: 100_000, seconds: 1, concurrency: 10_000 },
};

export const BENCH_BOT_TOKEN = 'xoxb-1000000001-2000000002-benchBENCHbenchBENCH';

export interface PeakRecord {
  scenario: string;
  role: 'web' | 'worker';
  name: string;
  peakRssMb: number | null;
}

export interface RelayOptions {
  root: string;
  runDir: string;
  redisUrl: string;
  slackApiUrl: string;
  /** label for logs and memory records */
  scenario: string;
  /** write a V8 CPU profile of every relay process into this folder (on graceful exit) */
  cpuProfDir?: string;
  /** which relay processes to profile when cpuProfDir is set */
  profile?: { web?: boolean; workers?: boolean };
  env?: Record<string, string>;
  /** the records on PostgreSQL: a database of its own for this relay (else a SQLite file in its folder) */
  database?: (name: string) => Promise<string>;
  /** collects each process's peak RSS when it stops */
  peaks: PeakRecord[];
}

export interface ApiAnswer<T = any> {
  status: number;
  body: T;
}

export class Relay {
  readonly dir: string;
  /** an admin key: subscriptions and records */
  readonly apiKey = `bench_${randomBytes(12).toString('hex')}`;
  /** an intake key: the alerts the scenarios send (its quota raised out of the way, but still taken) */
  readonly intakeKey = `intake_${randomBytes(12).toString('hex')}`;
  readonly queuePrefix = `b${randomBytes(5).toString('hex')}`;
  port = 0;
  url = '';
  env: Record<string, string> = {};
  web: Proc | null = null;
  workers: Proc[] = [];
  /** the producer-side view of the ongoing queue: pause/resume, counts, connected workers */
  readonly ongoing: Queue;
  private workerSeq = 0;

  constructor(private readonly options: RelayOptions) {
    this.dir = mkdtempSync(join(options.runDir, `relay-${options.scenario}-`));
    const redis = new URL(options.redisUrl);
    this.ongoing = new Queue('alerts-ongoing', {
      connection: { host: redis.hostname, port: Number(redis.port), maxRetriesPerRequest: null },
      prefix: this.queuePrefix,
    });
    this.ongoing.on('error', () => {});
  }

  /** `node <flags> <script>` exactly as the Procfile runs the role, plus the profiler's flags. */
  private nodeArgs(role: 'web' | 'worker', name: string): string[] {
    const { cpuProfDir, profile } = this.options;
    const [, ...args] = procfileCommand(this.options.root, role);
    const wanted = role === 'web' ? (profile?.web ?? true) : (profile?.workers ?? true);
    const prof = cpuProfDir && wanted ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, `--cpu-prof-name=${this.options.scenario}-${name}-${Date.now()}.cpuprofile`] : [];
    const script = args.pop()!;
    return [...prof, ...args, join(this.options.root, script)];
  }

  async startWeb(): Promise<void> {
    const databaseUrl = await this.options.database?.(this.options.scenario.replace(/[^a-z0-9_]/gi, '_').toLowerCase());
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    this.env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_ENV: 'production',
      PORT: String(this.port),
      PUBLIC_URL: this.url,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATABASE_PATH: join(this.dir, 'relay.db') }),
      REDIS_URL: this.options.redisUrl,
      QUEUE_PREFIX: this.queuePrefix,
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      API_KEYS: this.intakeKey,
      ADMIN_API_KEYS: this.apiKey,
      ADMIN_PASSWORD: randomBytes(12).toString('hex'),
      INTAKE_RATE_LIMIT: '1000000000',
      SLACK_API_URL: this.options.slackApiUrl,
      // production wants https: the local stand-in is an origin listed explicitly
      ALLOWED_API_URLS: new URL(this.options.slackApiUrl).origin,
      // raised so that the limits never bind during the benchmark (subscriptions copy these at creation)
      THROTTLE_ONGOING_LIMIT: '100000',
      THROTTLE_ONGOING_CONCURRENCY: '10000',
      THROTTLE_INITIAL_LIMIT: '100000',
      THROTTLE_INITIAL_CONCURRENCY: '10000',
      THROTTLE_WINDOW_SECONDS: '1',
      LOG_LEVEL: 'warn',
      ...this.options.env,
    };
    const web = startProc('web', process.execPath, this.nodeArgs('web', 'web'), {
      cwd: this.dir,
      env: this.env,
      logFile: join(this.options.runDir, `${this.options.scenario}-web.log`),
    });
    this.web = web;
    await waitFor('the web process to answer /readyz', async () => {
      if (!web.alive()) throw new Error(`web process exited:\n${web.tail()}`);
      const res = await fetch(`${this.url}/readyz`);
      return res.status === 200;
    }, { timeoutMs: 30_000 }).catch((error: Error) => {
      throw new Error(`${error.message}\n${web.tail()}`);
    });
  }

  /** Starts `count` worker processes and resolves once each is connected to the ongoing queue. */
  async startWorkers(count: number): Promise<void> {
    const before = this.workers.filter((w) => w.alive()).length;
    for (let i = 0; i < count; i++) {
      const name = `worker${++this.workerSeq}`;
      this.workers.push(
        startProc(name, process.execPath, this.nodeArgs('worker', name), {
          cwd: this.dir,
          env: this.env,
          logFile: join(this.options.runDir, `${this.options.scenario}-${name}.log`),
        }),
      );
    }
    // LOG_LEVEL=warn hides the start-up line, so readiness is read from Redis: BullMQ names each
    // worker's blocking connection after its queue (CLIENT LIST), one per process and queue.
    await waitFor(`${before + count} worker processes on alerts-ongoing`, async () => {
      for (const worker of this.workers) if (!worker.alive()) throw new Error(`${worker.name} exited:\n${worker.tail()}`);
      return (await this.ongoing.getWorkersCount()) >= before + count;
    }, { timeoutMs: 30_000 });
  }

  async stopWorkers(): Promise<void> {
    await Promise.all(this.workers.map((w) => this.stopProc(w, 'worker')));
    this.workers = [];
  }

  async stop(): Promise<void> {
    await this.stopWorkers();
    if (this.web) await this.stopProc(this.web, 'web');
    this.web = null;
    await this.ongoing.close().catch(() => {});
  }

  private async stopProc(proc: Proc, role: 'web' | 'worker'): Promise<void> {
    const peak = proc.peakRssMb();
    await proc.stop(15_000);
    this.options.peaks.push({ scenario: this.options.scenario, role, name: proc.name, peakRssMb: peak ?? proc.lastPeakRssMb });
  }

  async api<T = any>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed as T };
  }

  async createSubscription(overrides: Record<string, unknown> = {}): Promise<{ id: string; name: string }> {
    const res = await this.api('POST', '/api/v1/subscriptions', {
      name: 'Bench',
      version: 'v1.0',
      apiUrl: this.options.slackApiUrl,
      apiToken: BENCH_BOT_TOKEN,
      clientId: '1234567890.0987654321',
      recipient: 'U0ALICE',
      throttle: OPEN_THROTTLE,
      ...overrides,
    });
    if (res.status !== 201) throw new Error(`create subscription: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Every record of a status (at most 1,000 per call; paged by the caller's bound). */
  async countStatus(status: string): Promise<number> {
    const res = await this.api<{ alerts: unknown[] }>('GET', `/api/v1/alerts?status=${status}&limit=1000`);
    return res.body?.alerts?.length ?? 0;
  }
}

/** The Procfile's command for a role, split into words: `node <flags> <script>`. */
export function procfileCommand(root: string, role: 'web' | 'worker'): string[] {
  const command = readProcfile(join(root, 'Procfile')).get(role);
  if (!command) throw new Error(`the Procfile has no ${role} entry`);
  const words = command.split(/\s+/);
  if (words[0] !== 'node') throw new Error(`the Procfile's ${role} entry does not start with "node"`);
  return words;
}

/** The node flags the Procfile gives a role (V8's heap settings): baselines run with them too. */
export const procfileNodeFlags = (root: string, role: 'web' | 'worker') => procfileCommand(root, role).slice(1, -1);
