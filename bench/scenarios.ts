import { join } from 'node:path';
import autocannon from 'autocannon';
import { Queue } from 'bullmq';
import { baselineJob } from './baseline/job-shape.js';
import { cpuMeter } from './lib/machine.js';
import { freePort, sleep, startProc, waitFor } from './lib/proc.js';
import type { BenchRedis } from './lib/redis.js';
import { procfileNodeFlags, Relay, type PeakRecord } from './lib/relay.js';
import { benchMember, startSandboxProcess, type SandboxProcess } from './lib/sandbox-client.js';
import { percentile, round } from './lib/stats.js';

/** Everything a scenario needs; one per run. */
export interface BenchContext {
  root: string;
  runDir: string;
  quick: boolean;
  redis: BenchRedis;
  /** the stand-in without a rate limit, shared by scenarios 1–4 (reset before each) */
  sandbox: SandboxProcess;
  peaks: PeakRecord[];
  /** `--db postgres`: every relay's records on this server (a database per relay); else SQLite files */
  postgres?: BenchPostgres;
  /** the PostgreSQL server for the scenarios that compare both dialects (started on first use) */
  postgresServer(): Promise<BenchPostgres>;
  cpuProfDir?: string;
  profile?: { web?: boolean; workers?: boolean };
  log(line: string): void;
}

export interface BenchPostgres {
  createDatabase(name: string): Promise<string>;
  /** the postmaster, whose backends do a relay's queries */
  pid(): number;
}
export type Dialect = 'sqlite' | 'postgres';

/** Sizes of the full and the quick run. */
export function sizes(quick: boolean) {
  return quick
    ? { intakeWarmS: 2, intakeS: 6, batchWarmS: 1, batchS: 5, deliveryN: 4000, latencyWarmS: 2, latencyS: 8 }
    : { intakeWarmS: 3, intakeS: 15, batchWarmS: 2, batchS: 10, deliveryN: 20_000, latencyWarmS: 5, latencyS: 20 };
}

export const INTAKE_CONNECTIONS = 50;
export const BATCH_CONNECTIONS = 10;
export const BATCH_SIZE = 100;
export const LATENCY_RATE = 100;
const PREFILL_CONCURRENCY = 4;
/** the delivery drain's members, in turn; the shared stand-in knows them (`benchMembers`) */
export const DRAIN_MEMBERS = 1000;

const SAMPLE_ALERT = { title: 'db-1', text: 'Disk 95% full on db-1', severity: 'warning' } as const;

function relayFor(ctx: BenchContext, scenario: string, slackApiUrl = ctx.sandbox.apiUrl, dialect?: Dialect, env?: Record<string, string>): Relay {
  const postgres = dialect === undefined ? ctx.postgres : dialect === 'postgres' ? 'lazy' : undefined;
  return new Relay({
    env,
    database: postgres === undefined ? undefined : async (name) => (postgres === 'lazy' ? await ctx.postgresServer() : postgres).createDatabase(name),
    root: ctx.root,
    runDir: ctx.runDir,
    redisUrl: ctx.redis.url,
    slackApiUrl,
    scenario,
    cpuProfDir: ctx.cpuProfDir,
    profile: ctx.profile,
    peaks: ctx.peaks,
  });
}

async function fresh(ctx: BenchContext): Promise<void> {
  await ctx.redis.flush();
  await ctx.sandbox.reset();
}

/**
 * A baseline process, with the node flags the Procfile gives the relay process it stands for, so
 * that both sides run under the same V8 heap settings.
 */
function tsxProc(ctx: BenchContext, name: string, script: string, like: 'web' | 'worker', env: Record<string, string>) {
  const flags = procfileNodeFlags(ctx.root, like);
  return startProc(name, process.execPath, [...flags, '--import', 'tsx', join(ctx.root, script)], {
    cwd: ctx.root,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production', ...env },
    logFile: join(ctx.runDir, `${name}.log`),
  });
}

/** Warm up, then measure, with autocannon in this process. */
async function cannon(options: autocannon.Options, warmS: number, measureS: number): Promise<autocannon.Result> {
  if (warmS > 0) await autocannon({ ...options, duration: warmS });
  return autocannon({ ...options, duration: measureS });
}

function rps(result: autocannon.Result): number {
  return result['2xx'] / result.duration;
}

function statusSummary(result: autocannon.Result): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) out[code] = count;
  if (result.errors) out.errors = result.errors;
  if (result.timeouts) out.timeouts = result.timeouts;
  return out;
}

// ---------------------------------------------------------------------------------------------
// 1. Intake

export async function intakeScenario(ctx: BenchContext) {
  const s = sizes(ctx.quick);
  await fresh(ctx);
  const relay = relayFor(ctx, 'intake');
  let relayResult: autocannon.Result;
  let queued: number;
  try {
    await relay.startWeb();
    await relay.createSubscription();
    // Workers are NOT started: this measures the web process's intake alone.
    relayResult = await cannon(
      {
        url: `${relay.url}/api/v1/alerts`,
        method: 'POST',
        headers: { authorization: `Bearer ${relay.intakeKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ subscription: 'bench', ...SAMPLE_ALERT }),
        connections: INTAKE_CONNECTIONS,
      },
      s.intakeWarmS,
      s.intakeS,
    );
    const counts = await relay.ongoing.getJobCounts('wait', 'prioritized');
    queued = (counts.wait ?? 0) + (counts.prioritized ?? 0);
  } finally {
    await relay.stop();
  }

  await ctx.redis.flush();
  const port = await freePort();
  const bare = tsxProc(ctx, 'baseline-bare-web', 'bench/baseline/bare-web.ts', 'web', {
    PORT: String(port),
    REDIS_URL: ctx.redis.url,
    QUEUE_PREFIX: 'bare',
  });
  let baseResult: autocannon.Result;
  let bareRss: number | null;
  try {
    await bare.waitForOutput('bare-web listening');
    baseResult = await cannon(
      {
        url: `http://127.0.0.1:${port}/api/v1/alerts`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(SAMPLE_ALERT),
        connections: INTAKE_CONNECTIONS,
      },
      s.intakeWarmS,
      s.intakeS,
    );
    bareRss = bare.peakRssMb();
  } finally {
    await bare.stop();
  }
  return {
    figures: {
      rps: round(rps(relayResult)),
      p50Ms: relayResult.latency.p50,
      p99Ms: relayResult.latency.p99,
      baselineRps: round(rps(baseResult)),
    },
    details: {
      connections: INTAKE_CONNECTIONS,
      warmupS: s.intakeWarmS,
      measuredS: s.intakeS,
      workersRunning: 0,
      relayStatus: statusSummary(relayResult),
      relayJobsQueued: queued,
      baselineP50Ms: baseResult.latency.p50,
      baselineP99Ms: baseResult.latency.p99,
      baselineStatus: statusSummary(baseResult),
      baselinePeakRssMb: bareRss === null ? null : round(bareRss),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Batch intake

export async function batchScenario(ctx: BenchContext) {
  const s = sizes(ctx.quick);
  await fresh(ctx);
  const relay = relayFor(ctx, 'batch');
  let result: autocannon.Result;
  try {
    await relay.startWeb();
    await relay.createSubscription();
    const alerts = Array.from({ length: BATCH_SIZE }, (_, i) => ({ subscription: 'bench', ...SAMPLE_ALERT, text: `${SAMPLE_ALERT.text} (#${i})` }));
    result = await cannon(
      {
        url: `${relay.url}/api/v1/alerts/batch`,
        method: 'POST',
        headers: { authorization: `Bearer ${relay.intakeKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ alerts }),
        connections: BATCH_CONNECTIONS,
        timeout: 30,
      },
      s.batchWarmS,
      s.batchS,
    );
  } finally {
    await relay.stop();
  }

  await ctx.redis.flush();
  const bulk = tsxProc(ctx, 'baseline-add-bulk', 'bench/baseline/add-bulk.ts', 'web', {
    REDIS_URL: ctx.redis.url,
    QUEUE_PREFIX: 'bulk',
    CONCURRENCY: String(BATCH_CONNECTIONS),
    BATCH: String(BATCH_SIZE),
    WARMUP_MS: String(s.batchWarmS * 1000),
    DURATION_MS: String(s.batchS * 1000),
  });
  const exit = await Promise.race([bulk.exited, sleep((s.batchWarmS + s.batchS + 60) * 1000).then(() => null)]);
  if (!exit || exit.code !== 0) {
    await bulk.stop();
    throw new Error(`add-bulk baseline failed:\n${bulk.tail()}`);
  }
  const line = bulk.tail().trim().split('\n').at(-1)!;
  const base = JSON.parse(line) as { jobsPerSec: number };
  return {
    figures: {
      alertsPerSec: round(rps(result) * BATCH_SIZE),
      baselineAlertsPerSec: round(base.jobsPerSec),
    },
    details: {
      perRequest: BATCH_SIZE,
      connections: BATCH_CONNECTIONS,
      measuredS: s.batchS,
      relayStatus: statusSummary(result),
      relayRequestP50Ms: result.latency.p50,
      relayRequestP99Ms: result.latency.p99,
      baselineConcurrency: BATCH_CONNECTIONS,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// 3. Delivery

/** POSTs `count` alerts in batches of 100, a few requests in flight. */
async function prefill(relay: Relay, count: number, alert: (i: number) => Record<string, unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const from = next;
      next = Math.min(count, next + BATCH_SIZE);
      const alerts = [];
      for (let i = from; i < next; i++) alerts.push({ subscription: 'bench', ...SAMPLE_ALERT, ...alert(i) });
      const res = await relay.api('POST', '/api/v1/alerts/batch', { alerts });
      if (res.status !== 202) throw new Error(`prefill batch: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: PREFILL_CONCURRENCY }, lane));
}

function drainTimeoutMs(n: number): number {
  return Math.max(60_000, n * 10); // ≥ 100 deliveries/s, or it is reported as not drained
}

async function drainRelay(ctx: BenchContext, workers: number, n: number, dialect?: Dialect) {
  await fresh(ctx);
  const relay = relayFor(ctx, `delivery${workers}${dialect ? `_${dialect}` : ''}`, ctx.sandbox.apiUrl, dialect);
  try {
    await relay.startWeb();
    await relay.createSubscription({ recipient: undefined });
    // Held back while the queue fills, so that the workers start on a full queue at a known time.
    await relay.ongoing.pause();
    // to distinct members in turn, so that each alert is one post (alerts waiting together for
    // one member would share a message, §6.5, and the figure would not be the per-post speed)
    await prefill(relay, n, (i) => ({ text: `drain ${i}`, recipient: benchMember(i % DRAIN_MEMBERS) }));
    const counts = await relay.ongoing.getJobCounts('wait', 'delayed', 'prioritized');
    // ranked (§4, fairness), the waiting jobs are BullMQ's prioritized ones
    const waiting = (counts.wait ?? 0) + (counts.prioritized ?? 0);
    if (waiting !== n) throw new Error(`prefill left ${JSON.stringify(counts)} jobs, expected ${n}`);
    await relay.startWorkers(workers);
    const postgres = dialect === 'postgres' ? await ctx.postgresServer() : dialect === undefined ? ctx.postgres : undefined;
    // where the cores go while it drains: what binds
    const cpu = cpuMeter({
      workers: relay.workers.map((w) => w.pid),
      redis: [ctx.redis.proc.pid],
      slackStandIn: [ctx.sandbox.proc.pid],
      ...(postgres ? { postgres: [postgres.pid()] } : {}),
      web: relay.web ? [relay.web.pid] : [],
    });
    const t0 = Date.now();
    await relay.ongoing.resume();
    const stats = await ctx.sandbox.waitCount(n, drainTimeoutMs(n));
    const coresBusy = cpu();
    await sleep(500); // let any straggler (a duplicate) arrive before counting
    const after = await ctx.sandbox.stats();
    const delivered = Math.min(after.alerts, n);
    const end = stats.alerts >= n ? stats.lastAt! : Date.now();
    const perSec = delivered / ((end - t0) / 1000);
    return {
      perSec: round(perSec),
      delivered,
      duplicates: Math.max(0, after.alerts - n),
      coalescedPosts: after.alerts - after.messages,
      drainS: round((end - t0) / 1000, 2),
      calls: after.calls,
      coresBusy,
    };
  } finally {
    await relay.stop();
  }
}

async function drainRaw(ctx: BenchContext, n: number) {
  await fresh(ctx);
  const redisUrl = new URL(ctx.redis.url);
  const queue = new Queue('bench-raw', {
    connection: { host: redisUrl.hostname, port: Number(redisUrl.port), maxRetriesPerRequest: null },
    prefix: 'raw',
  });
  queue.on('error', () => {});
  const worker = tsxProc(ctx, 'baseline-raw-worker', 'bench/baseline/raw-worker.ts', 'worker', {
    REDIS_URL: ctx.redis.url,
    QUEUE_PREFIX: 'raw',
    QUEUE_NAME: 'bench-raw',
    SLACK_API_URL: ctx.sandbox.apiUrl,
    WORKER_CONCURRENCY: '50', // the relay's default WORKER_CONCURRENCY
  });
  try {
    await queue.pause();
    for (let from = 0; from < n; from += 1000) {
      const jobs = [];
      for (let i = from; i < Math.min(n, from + 1000); i++) jobs.push(baselineJob({ ...SAMPLE_ALERT, text: `drain ${i}` }));
      await queue.addBulk(jobs);
    }
    await waitFor('the raw worker to connect', async () => (await queue.getWorkersCount()) >= 1, { timeoutMs: 30_000 });
    const t0 = Date.now();
    await queue.resume();
    const stats = await ctx.sandbox.waitCount(n, drainTimeoutMs(n));
    const end = stats.messages >= n ? stats.lastAt! : Date.now();
    const peak = worker.peakRssMb();
    return {
      perSec: round(Math.min(stats.messages, n) / ((end - t0) / 1000)),
      delivered: stats.messages,
      drainS: round((end - t0) / 1000, 2),
      peakRssMb: peak === null ? null : round(peak),
    };
  } finally {
    await worker.stop();
    await queue.close().catch(() => {});
  }
}

export async function deliveryScenario(ctx: BenchContext) {
  const n = sizes(ctx.quick).deliveryN;
  const one = await drainRelay(ctx, 1, n);
  ctx.log(`    one worker: ${one.perSec}/s (${one.delivered}/${n} in ${one.drainS} s)`);
  const two = await drainRelay(ctx, 2, n);
  ctx.log(`    two workers: ${two.perSec}/s (${two.delivered}/${n} in ${two.drainS} s)`);
  const raw = await drainRaw(ctx, n);
  ctx.log(`    raw BullMQ worker: ${raw.perSec}/s (${raw.delivered}/${n} in ${raw.drainS} s)`);
  return {
    figures: { oneWorkerPerSec: one.perSec, twoWorkersPerSec: two.perSec, baselinePerSec: raw.perSec },
    details: { alerts: n, workerConcurrency: 50, oneWorker: one, twoWorkers: two, rawWorker: raw },
  };
}

/**
 * Throughput with 1, 2 and 3 worker processes, on SQLite and on PostgreSQL in the same run
 * (docs/contract.md §6.3): the same drain as the delivery scenario, to members of a stand-in
 * without a rate limit, so that Slack's per-channel pace never binds.
 */
export async function workersScenario(ctx: BenchContext) {
  const n = sizes(ctx.quick).deliveryN;
  const figures: Record<Dialect, number[]> = { sqlite: [], postgres: [] };
  const details: Record<string, unknown> = { alerts: n, workerConcurrency: 50 };
  for (const dialect of ['sqlite', 'postgres'] as const) {
    for (const workers of [1, 2, 3]) {
      const drained = await drainRelay(ctx, workers, n, dialect);
      const busy = Object.entries(drained.coresBusy).map(([name, cores]) => `${name} ${cores}`).join(', ');
      ctx.log(`    ${dialect}, ${workers} worker(s): ${drained.perSec}/s (${drained.delivered}/${n} in ${drained.drainS} s); cores busy: ${busy}`);
      figures[dialect].push(drained.perSec);
      details[`${dialect}${workers}`] = drained;
    }
  }
  return { figures, details };
}

// ---------------------------------------------------------------------------------------------
// 4. Latency

export async function latencyScenario(ctx: BenchContext) {
  const s = sizes(ctx.quick);
  await fresh(ctx);
  const relay = relayFor(ctx, 'latency');
  const warm = s.latencyWarmS * LATENCY_RATE;
  const total = warm + s.latencyS * LATENCY_RATE;
  /** alert id → when its 202 arrived, for the measured ones (after the warm-up) */
  const accepted = new Map<string, number>();
  let acceptedAll = 0;
  const responseMs: number[] = [];
  const refused: Record<string, number> = {};
  try {
    await relay.startWeb();
    await relay.createSubscription();
    await relay.startWorkers(2); // the Procfile's web + two workers
    const tag = `lat${Date.now().toString(36)}`;
    const body = (i: number) => JSON.stringify({ subscription: 'bench', ...SAMPLE_ALERT, text: `latency probe ${tag} #${i}` });
    const headers = { authorization: `Bearer ${relay.intakeKey}`, 'content-type': 'application/json' };
    const start = performance.now();
    const inFlight: Promise<void>[] = [];
    // Open loop: alert i is sent at start + i × 10 ms whatever the answers do.
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / LATENCY_RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const sentAt = performance.now();
      inFlight.push(
        fetch(`${relay.url}/api/v1/alerts`, { method: 'POST', headers, body: body(i) }).then(
          async (res) => {
            const at = Date.now();
            const answer = (await res.json().catch(() => null)) as { id?: string } | null;
            if (res.status === 202 && answer?.id) {
              acceptedAll += 1;
              if (i >= warm) {
                accepted.set(answer.id, at);
                responseMs.push(performance.now() - sentAt);
              }
            } else refused[res.status] = (refused[res.status] ?? 0) + 1;
          },
          (error: Error) => {
            refused[error.message] = (refused[error.message] ?? 0) + 1;
          },
        ),
      );
    }
    const sendS = (performance.now() - start) / 1000;
    await Promise.all(inFlight);
    await ctx.sandbox.waitCount(acceptedAll, 30_000);
    // each alert at the post that carried it (alerts arriving together may share one, §6.5)
    const messages = await ctx.sandbox.messages();
    const latencies: number[] = [];
    let posts = 0;
    for (const message of messages) {
      const carried = message.alertIds.filter((id) => accepted.has(id));
      if (carried.length > 0) posts += 1;
      for (const id of carried) latencies.push(message.at - accepted.get(id)!);
    }
    const measured = accepted.size;
    return {
      figures: {
        p50Ms: percentile(latencies, 50),
        p95Ms: percentile(latencies, 95),
        p99Ms: percentile(latencies, 99),
      },
      details: {
        rate: LATENCY_RATE,
        warmupS: s.latencyWarmS,
        measuredS: s.latencyS,
        actualSendRate: round(total / sendS),
        measured,
        delivered: latencies.length,
        posts,
        maxMs: latencies.length ? Math.max(...latencies) : null,
        negativeSamples: latencies.filter((l) => l < 0).length,
        resolution: '1 ms (Date.now() in the driver at the 202, and in the stand-in at chat.postMessage)',
        intakeResponseP50Ms: round(percentile(responseMs, 50), 2),
        intakeResponseP99Ms: round(percentile(responseMs, 99), 2),
        refused,
        workers: 2,
      },
    };
  } finally {
    await relay.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// 5. Slack-limit goodput

export const GOODPUT_MEMBERS = ['U0ALICE', 'U0BOB', 'W0CAROL', 'U0DAVE', 'U0ERIN'];
const GOODPUT_PER_MEMBER = 20;
const IDEAL_MS = GOODPUT_PER_MEMBER * 1000;

export async function goodputScenario(ctx: BenchContext) {
  await ctx.redis.flush();
  const limited = await startSandboxProcess(ctx.root, ctx.runDir, 'sandbox-limited', {
    channelPostLimit: { perSecond: 1 },
    users: [
      { id: 'U0ALICE', name: 'alice', realName: 'Alice Archer', email: 'alice@example.com' },
      { id: 'U0BOB', name: 'bob', realName: 'Bob Baker', email: 'bob@example.com' },
      { id: 'W0CAROL', name: 'carol', realName: 'Carol Cruz', email: 'carol@example.com' },
      { id: 'U0DAVE', name: 'dave', realName: 'Dave Dunn', email: 'dave@example.com' },
      { id: 'U0ERIN', name: 'erin', realName: 'Erin Ellis', email: 'erin@example.com' },
    ],
  });
  const relay = relayFor(ctx, 'goodput', limited.apiUrl);
  const total = GOODPUT_MEMBERS.length * GOODPUT_PER_MEMBER;
  try {
    await relay.startWeb();
    await relay.createSubscription({ recipient: undefined });
    await relay.startWorkers(2);
    const alerts = Array.from({ length: total }, (_, i) => ({
      subscription: 'bench',
      ...SAMPLE_ALERT,
      text: `goodput ${i}`,
      recipient: GOODPUT_MEMBERS[i % GOODPUT_MEMBERS.length],
    }));
    const t0 = Date.now();
    const res = await relay.api('POST', '/api/v1/alerts/batch', { alerts });
    if (res.status !== 202) throw new Error(`goodput batch: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    await limited.waitCount(total, 120_000);
    // Wait until no record is still waiting (bounded), so that late failures and duplicates count.
    await waitFor('records to settle', async () => {
      const waiting = (await relay.countStatus('queued')) + (await relay.countStatus('retrying')) + (await relay.countStatus('delivering'));
      return waiting === 0;
    }, { timeoutMs: 30_000, intervalMs: 250 }).catch(() => undefined);
    await sleep(1000);
    const messages = await limited.messages();
    const stats = await limited.stats();
    // each alert at the post that carried it: alerts waiting together for a member share one (§6.5)
    const carried = messages.flatMap((m) => m.alertIds.map((id) => ({ id, user: m.user, at: m.at })));
    const unique = new Set(carried.map((c) => c.id));
    const lastAt = messages.reduce((max, m) => Math.max(max, m.at), 0);
    const actualMs = lastAt - t0;
    const failed = await relay.countStatus('failed');
    const perMember: Record<string, number> = {};
    for (const c of carried) perMember[c.user] = (perMember[c.user] ?? 0) + 1;
    return {
      figures: {
        ratio: unique.size === total ? round(IDEAL_MS / actualMs, 3) : 0,
        failed,
        duplicates: carried.length - unique.size,
      },
      details: {
        members: GOODPUT_MEMBERS.length,
        perMember: GOODPUT_PER_MEMBER,
        idealS: IDEAL_MS / 1000,
        idealIs: 'one post per alert at one post per second per channel; coalescing (§6.5) can beat it',
        actualS: round(actualMs / 1000, 2),
        delivered: unique.size,
        undelivered: total - unique.size,
        posts: messages.length,
        deliveredPerMember: perMember,
        calls: stats.calls,
        workers: 2,
      },
    };
  } finally {
    await relay.stop();
    await limited.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// 6. Storm (§6.5): many alerts for one member, Slack holding the DM to one post a second

export const STORM_ALERTS = 500;
const STORM_REQUESTS = 5;

export async function stormScenario(ctx: BenchContext) {
  await ctx.redis.flush();
  const limited = await startSandboxProcess(ctx.root, ctx.runDir, 'sandbox-storm', { channelPostLimit: { perSecond: 1 } });
  const relay = relayFor(ctx, 'storm', limited.apiUrl);
  try {
    await relay.startWeb();
    await relay.createSubscription();
    await relay.startWorkers(2);
    const per = STORM_ALERTS / STORM_REQUESTS;
    const t0 = Date.now();
    const answers = await Promise.all(
      Array.from({ length: STORM_REQUESTS }, (_, r) =>
        relay.api('POST', '/api/v1/alerts/batch', {
          alerts: Array.from({ length: per }, (_, i) => ({ subscription: 'bench', ...SAMPLE_ALERT, text: `storm ${r * per + i}` })),
        }),
      ),
    );
    const acceptedAt = Date.now();
    const bad = answers.find((res) => res.status !== 202);
    if (bad) throw new Error(`storm batch: ${bad.status} ${JSON.stringify(bad.body).slice(0, 300)}`);
    const ids = new Set(answers.flatMap((res) => (res.body as { alerts: { id: string }[] }).alerts.map((a) => a.id)));
    const stats = await limited.waitCount(STORM_ALERTS, 120_000);
    await sleep(1000); // let any straggler (a duplicate) arrive before counting
    const messages = (await limited.messages()).filter((m) => m.alertIds.some((id) => ids.has(id)));
    const carried = messages.flatMap((m) => m.alertIds);
    const delivered = new Set(carried.filter((id) => ids.has(id)));
    const lastAt = stats.alerts >= STORM_ALERTS ? stats.lastAt! : Number.NaN;
    const after = await limited.stats();
    return {
      figures: {
        allDeliveredS: round((lastAt - t0) / 1000, 2),
        posts: messages.length,
        lost: STORM_ALERTS - delivered.size,
        duplicates: carried.length - delivered.size,
      },
      details: {
        alerts: STORM_ALERTS,
        requests: `${STORM_REQUESTS} batches of ${per}, in parallel`,
        acceptedS: round((acceptedAt - t0) / 1000, 2),
        perPost: messages.map((m) => m.alertIds.length),
        postTimesS: messages.map((m) => round((m.at - t0) / 1000, 2)),
        calls: after.calls,
        slackPaceIdealS: `one post per second: ${STORM_ALERTS} posts take ${STORM_ALERTS - 1} s`,
        workers: 2,
      },
    };
  } finally {
    await relay.stop();
    await limited.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// 7. Fairness: one subscription's backlog fills the global ceiling; another's alerts still go

export const FAIRNESS_BACKLOG = 10_000;
const FAIRNESS_PROBES = 50;
const FAIRNESS_PROBE_EVERY_MS = 200;
/** the first release's defaults for the ongoing queue (SPEC §4) */
const DEFAULT_CEILING = { THROTTLE_ONGOING_LIMIT: '500', THROTTLE_ONGOING_CONCURRENCY: '500', THROTTLE_WINDOW_SECONDS: '60' };

export async function fairnessScenario(ctx: BenchContext) {
  await fresh(ctx);
  const relay = relayFor(ctx, 'fairness', ctx.sandbox.apiUrl, undefined, DEFAULT_CEILING);
  try {
    await relay.startWeb();
    // both subscriptions' own throttles open: only the global ceiling binds
    const busy = await relay.createSubscription({ name: 'Busy', recipient: benchMember(0) });
    const quiet = await relay.createSubscription({ name: 'Quiet', recipient: benchMember(1) });
    await relay.startWorkers(2);
    const t0 = Date.now();
    for (let i = 0; i < FAIRNESS_BACKLOG / 1000; i++) {
      const res = await relay.api('POST', '/api/v1/alerts/batch', {
        alerts: Array.from({ length: 1000 }, (_, j) => ({ subscription: busy.id, ...SAMPLE_ALERT, text: `backlog ${i * 1000 + j}` })),
      });
      if (res.status !== 202) throw new Error(`backlog batch: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    }
    const backlogAcceptedS = (Date.now() - t0) / 1000;
    // the ceiling's burst (500) is spent by the backlog before the first probe
    await ctx.sandbox.waitCount(500, 60_000);
    const sent = new Map<string, number>();
    const probesFrom = Date.now();
    for (let i = 0; i < FAIRNESS_PROBES; i++) {
      const at = Date.now();
      const res = await relay.api<{ id: string }>('POST', '/api/v1/alerts', { subscription: quiet.id, ...SAMPLE_ALERT, text: `probe ${i}` });
      if (res.status !== 202) throw new Error(`probe: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      sent.set(res.body.id, at);
      await sleep(Math.max(0, probesFrom + (i + 1) * FAIRNESS_PROBE_EVERY_MS - Date.now()));
    }
    await waitFor('the probes to arrive', async () => (await ctx.sandbox.messages('probe ')).length >= FAIRNESS_PROBES, { timeoutMs: 120_000, intervalMs: 100 }).catch(() => undefined);
    const messages = await ctx.sandbox.messages();
    const arrived = new Map<string, number>();
    let backlogDelivered = 0;
    for (const message of messages) {
      for (const id of message.alertIds) {
        if (sent.has(id)) arrived.set(id, message.at - sent.get(id)!);
        else backlogDelivered += 1;
      }
    }
    const inOrder = [...sent.keys()].map((id) => arrived.get(id) ?? Number.NaN);
    const latencies = inOrder.filter((ms) => Number.isFinite(ms));
    const windowS = (Date.now() - probesFrom) / 1000;
    return {
      figures: {
        probeP50Ms: percentile(latencies, 50),
        probeP99Ms: percentile(latencies, 99),
        probesDelivered: latencies.length,
        backlogDelivered,
      },
      details: {
        ceiling: '500 starts per 60 s (the defaults), THROTTLE_ONGOING_CONCURRENCY 500; both subscriptions at the API maxima (OPEN_THROTTLE)',
        backlog: `${FAIRNESS_BACKLOG} alerts of one subscription, 10 batches of 1,000, accepted in ${round(backlogAcceptedS, 1)} s`,
        probes: `${FAIRNESS_PROBES} alerts of another subscription, one every ${FAIRNESS_PROBE_EVERY_MS} ms, sent once the backlog had spent the burst`,
        measured: 'Date.now() before each probe POST → the stand-in\'s chat.postMessage carrying it',
        probeMaxMs: Math.max(...latencies),
        probeLatenciesMs: inOrder,
        backlogDeliveredPerSec: round(backlogDelivered / ((Date.now() - t0) / 1000), 1),
        probeWindowS: round(windowS, 1),
        idealCeilingPace: '500 / 60 s = one start every 120 ms',
        workers: 2,
      },
    };
  } finally {
    await relay.stop();
  }
}
