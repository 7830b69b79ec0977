// The relay side by side with a real Prometheus Alertmanager (Debian's prometheus-alertmanager,
// 0.25), both posting DMs to the same Slack stand-in, alternated in one run:
//
//   1. one alert at a time (each sent once the previous one is at the stand-in): latency p50/p95
//   2. alerts to as many distinct members, 100 per request, all requests at once: delivered/s
//   3. as many alerts to one member: delivered/s (the relay coalesces, Alertmanager groups)
//   4. the relay's POST /api/v1/alerts against GET /healthz on one keep-alive connection
//
// Alertmanager's slack_configs post `{ channel, username, attachments }`, no `text` and no
// `blocks`, which real Slack accepts; so does the stand-in, storing what the attachments show.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { alertmanagerBinary } from '../test/helpers/alertmanager.js';
import { cpuMeter } from './lib/machine.js';
import { freePort, sleep, startProc, waitFor, type Proc } from './lib/proc.js';
import { BENCH_BOT_TOKEN, Relay } from './lib/relay.js';
import { benchMember, startSandboxProcess, type SandboxProcess } from './lib/sandbox-client.js';
import { percentile, round } from './lib/stats.js';
import type { BenchContext } from './scenarios.js';

/** What the scenario reports; every ratio is relay / Alertmanager. */
export interface AlertmanagerFigures {
  /** 1. one alert at a time: POST sent → the stand-in's chat.postMessage, ms */
  sequential: {
    relayP50Ms: number;
    relayP95Ms: number;
    alertmanagerP50Ms: number;
    alertmanagerP95Ms: number;
    /** < 1: the relay is faster */
    p50Ratio: number;
    p95Ratio: number;
  };
  /** 2. N alerts to N distinct members: alerts / (last post − first request sent) */
  distinctMembers: { relayPerSec: number; alertmanagerPerSec: number; ratio: number };
  /** 3. N alerts to one member; Alertmanager's alerts counted by the probe ids its posts show */
  oneMember: { relayPerSec: number; alertmanagerPerSec: number; ratio: number; relayDelivered: number; alertmanagerShown: number; alerts: number };
  /** 4. one keep-alive connection: the intake's p50 above a bare /healthz, workers delivering each alert */
  keepAlive: { postP50Ms: number; healthzP50Ms: number; diffMs: number };
  /** the same with the workers stopped: the intake's own cost */
  keepAliveQuiet: { postP50Ms: number; healthzP50Ms: number; diffMs: number };
}

/** For bench/run.ts's table of scenarios. */
export const ALERTMANAGER_LABEL = 'relay vs Prometheus Alertmanager 0.25 (same Slack stand-in)';

export function alertmanagerLine(f: AlertmanagerFigures): string {
  const s = f.sequential;
  return (
    `one at a time p50 ${s.relayP50Ms} vs ${s.alertmanagerP50Ms} ms (×${s.p50Ratio}), p95 ${s.relayP95Ms} vs ${s.alertmanagerP95Ms} ms; ` +
    `distinct members ${f.distinctMembers.relayPerSec} vs ${f.distinctMembers.alertmanagerPerSec}/s (×${f.distinctMembers.ratio}); ` +
    `one member ${f.oneMember.relayPerSec} vs ${f.oneMember.alertmanagerPerSec}/s (Alertmanager showed ${f.oneMember.alertmanagerShown}/${f.oneMember.alerts}); ` +
    `POST ${f.keepAlive.postP50Ms} ms vs /healthz ${f.keepAlive.healthzP50Ms} ms p50 (workers stopped ${f.keepAliveQuiet.postP50Ms} vs ${f.keepAliveQuiet.healthzP50Ms} ms)`
  );
}

export function alertmanagerSizes(quick: boolean) {
  return quick
    ? { sequentialN: 50, sequentialWarm: 10, bulkN: 500, keepAliveN: 200, keepAliveWarm: 30 }
    : { sequentialN: 200, sequentialWarm: 20, bulkN: 2000, keepAliveN: 200, keepAliveWarm: 30 };
}

const PER_REQUEST = 100;
const WORKERS = 2; // the Procfile's web + two workers
const ONE_MEMBER = 'U0ALICE';
const GROUP_INTERVAL = '1s';
const ALERT = { title: 'bench', severity: 'warning' } as const;

// ---------------------------------------------------------------------------------------------
// Alertmanager

interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
}

interface BenchAlertmanager {
  url: string;
  proc: Proc;
  /** POST /api/v2/alerts; throws unless 200 */
  post(alerts: PostableAlert[]): Promise<void>;
  /** lines of its log at level=error or warn (failed notifications show there) */
  problems(): string[];
  stop(): Promise<{ peakRssMb: number | null }>;
}

function alertmanagerYaml(options: { groupBy: string[]; apiUrl: string }): string {
  const receiver = (name: string, apiUrl: string) => [
    `  - name: ${name}`,
    '    slack_configs:',
    `      - api_url: ${JSON.stringify(apiUrl)}`,
    '        http_config:',
    '          authorization:',
    `            credentials: ${JSON.stringify(BENCH_BOT_TOKEN)}`,
    `        channel: '{{ .CommonLabels.member }}'`,
    '        send_resolved: false',
    `        title: 'bench {{ .CommonLabels.alertname }}'`,
    // every alert's probe id, so that the posts show which alerts they carry
    `        text: '{{ range .Alerts }}{{ .Labels.probe }} {{ end }}'`,
  ];
  const lines = [
    'global:',
    '  resolve_timeout: 1h',
    'route:',
    '  receiver: slack',
    `  group_by: [${options.groupBy.map((l) => JSON.stringify(l)).join(', ')}]`,
    '  group_wait: 0s',
    `  group_interval: ${GROUP_INTERVAL}`,
    '  repeat_interval: 1h',
  ];
  lines.push('receivers:', ...receiver('slack', options.apiUrl));
  return `${lines.join('\n')}\n`;
}

/** Its own Alertmanager: a folder under the run folder, free loopback port, no gossip, log in the run folder. */
async function startBenchAlertmanager(ctx: BenchContext, name: string, configYaml: string): Promise<BenchAlertmanager> {
  const binary = alertmanagerBinary();
  if (!binary) throw new Error('no Alertmanager binary: apt-get install prometheus-alertmanager (or set ALERTMANAGER_BIN)');
  const dir = join(ctx.runDir, name);
  mkdirSync(join(dir, 'data'), { recursive: true });
  const configPath = join(dir, 'alertmanager.yml');
  writeFileSync(configPath, configYaml);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(ctx.runDir, `${name}.log`);
  const proc = startProc(
    name,
    binary,
    [
      `--config.file=${configPath}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${url}`,
      '--cluster.listen-address=',
      '--log.level=info',
    ],
    { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, logFile },
  );
  try {
    await waitFor(`${name} to answer /-/ready`, async () => {
      if (!proc.alive()) throw new Error('exited');
      return (await fetch(`${url}/-/ready`)).ok;
    }, { timeoutMs: 15_000, intervalMs: 25 });
  } catch (error) {
    await proc.stop(2000);
    throw new Error(`${(error as Error).message}\n${proc.tail()}`, { cause: error });
  }
  return {
    url,
    proc,
    async post(alerts) {
      const res = await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
      if (res.status !== 200) throw new Error(`${name} POST /api/v2/alerts: ${res.status} ${await res.text()}`);
      await res.arrayBuffer().catch(() => undefined);
    },
    problems: () => {
      let text: string;
      try {
        text = readFileSync(logFile, 'utf8');
      } catch {
        text = proc.tail();
      }
      return text.split('\n').filter((line) => /level=(error|warn)/.test(line));
    },
    async stop() {
      const peakRssMb = proc.peakRssMb();
      await proc.stop(5000);
      return { peakRssMb: peakRssMb === null ? null : round(peakRssMb) };
    },
  };
}

const PROBE = /^am\d\.\d+$/;
const probesIn = (text: string) => text.split(/\s+/).filter((token) => PROBE.test(token));

// ---------------------------------------------------------------------------------------------
// Helpers

interface Env {
  ctx: BenchContext;
  relay: Relay;
  sandbox: SandboxProcess;
}

const relayHeaders = (relay: Relay) => ({ authorization: `Bearer ${relay.intakeKey}`, 'content-type': 'application/json' });

export async function relayPostOne(relay: Relay, alert: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${relay.url}/api/v1/alerts`, { method: 'POST', headers: relayHeaders(relay), body: JSON.stringify({ subscription: 'bench', ...alert }) });
  const answer = (await res.json().catch(() => null)) as { id?: string } | null;
  if (res.status !== 202 || !answer?.id) throw new Error(`relay POST /api/v1/alerts: ${res.status} ${JSON.stringify(answer)}`);
  return answer.id;
}

/**
 * One batch, as a client would send it: a 503 (the relay could not queue it in time; nothing was
 * stored) is sent again after its Retry-After, at most 5 times, and counted in `refused`.
 */
async function relayPostBatch(relay: Relay, alerts: Record<string, unknown>[], refused: Refusals): Promise<string[]> {
  const body = JSON.stringify({ alerts: alerts.map((a) => ({ subscription: 'bench', ...a })) });
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${relay.url}/api/v1/alerts/batch`, { method: 'POST', headers: relayHeaders(relay), body });
    const answer = (await res.json().catch(() => null)) as { alerts?: { id: string }[]; message?: string } | null;
    if (res.status === 202 && answer?.alerts) return answer.alerts.map((a) => a.id);
    if (res.status === 503 && attempt < 5) {
      refused.requests += 1;
      refused.alerts += alerts.length;
      if (answer?.message) refused.messages[answer.message] = (refused.messages[answer.message] ?? 0) + 1;
      await sleep(Number(res.headers.get('retry-after') ?? 1) * 1000);
      continue;
    }
    throw new Error(`relay POST /api/v1/alerts/batch: ${res.status} ${JSON.stringify(answer).slice(0, 300)}`);
  }
}

const refusedNote = (r: Refusals) => (r.requests ? `; ${r.requests} batch request(s) answered 503 and sent again` : '');

interface Refusals {
  /** batch requests answered 503 and sent again */
  requests: number;
  alerts: number;
  messages: Record<string, number>;
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** When each wanted relay alert first showed in a post (its metadata's alert ids), and how many posts carried them. */
async function relayArrivals(sandbox: SandboxProcess, wanted: Set<string>): Promise<{ at: Map<string, number>; posts: number; maxPerPost: number }> {
  const at = new Map<string, number>();
  let posts = 0;
  let maxPerPost = 0;
  for (const message of await sandbox.messages()) {
    const carried = message.alertIds.filter((id) => wanted.has(id));
    if (carried.length === 0) continue;
    posts += 1;
    maxPerPost = Math.max(maxPerPost, carried.length);
    for (const id of carried) if (!at.has(id) || at.get(id)! > message.at) at.set(id, message.at);
  }
  return { at, posts, maxPerPost };
}

/** When each of Alertmanager's probe ids (prefix `am<phase>.`) first showed in a post at the stand-in. */
async function alertmanagerArrivals(sandbox: SandboxProcess, prefix: string): Promise<{ at: Map<string, number>; posts: number; maxPerPost: number }> {
  const at = new Map<string, number>();
  let posts = 0;
  let maxPerPost = 0;
  for (const message of await sandbox.messages(prefix)) {
    const probes = probesIn(message.text).filter((p) => p.startsWith(prefix));
    if (probes.length === 0) continue;
    posts += 1;
    maxPerPost = Math.max(maxPerPost, probes.length);
    for (const probe of probes) if (!at.has(probe) || at.get(probe)! > message.at) at.set(probe, message.at);
  }
  return { at, posts, maxPerPost };
}

const maxOf = (values: Iterable<number>) => {
  let max = Number.NaN;
  for (const v of values) if (!(v <= max)) max = v;
  return max;
};

/** Waits until the stand-in's posts carry `target` alerts (a post without the relay's metadata counts one). */
async function waitAlerts(sandbox: SandboxProcess, target: number, timeoutMs: number): Promise<number> {
  return (await sandbox.waitCount(target, timeoutMs)).alerts;
}

// ---------------------------------------------------------------------------------------------
// 1. One alert at a time

async function sequential(env: Env, am: BenchAlertmanager, n: number, warm: number) {
  const { relay, sandbox } = env;
  const relaySent = new Map<string, number>();
  /** alert id → ms from the POST sent to its 202 read */
  const relayAccept = new Map<string, number>();
  const amSent = new Map<string, number>();
  const amAccept: number[] = [];
  let expected = (await sandbox.stats()).alerts;
  let timeouts = 0;
  const settle = async () => {
    expected += 1;
    const seen = await waitAlerts(sandbox, expected, 10_000);
    if (seen < expected) timeouts += 1;
    expected = seen; // resynchronised: a late or missing post does not shift every later wait
  };
  const sendRelay = async (i: number) => {
    const sentAt = Date.now();
    const id = await relayPostOne(relay, { ...ALERT, text: `sequential ${i}`, recipient: ONE_MEMBER });
    if (i >= warm) {
      relaySent.set(id, sentAt);
      relayAccept.set(id, Date.now() - sentAt);
    }
    await settle();
  };
  const sendAm = async (i: number) => {
    const probe = `am1.${i}`;
    const sentAt = Date.now();
    // alertname unique: each alert is a group of its own, notified at once (group_wait 0s)
    await am.post([{ labels: { alertname: `bench-seq-${i}`, member: ONE_MEMBER, probe } }]);
    if (i >= warm) {
      amSent.set(probe, sentAt);
      amAccept.push(Date.now() - sentAt);
    }
    await settle();
  };
  const t0 = Date.now();
  for (let i = 0; i < warm + n; i++) {
    // alternated, and which goes first alternates too
    if (i % 2 === 0) {
      await sendRelay(i);
      await sendAm(i);
    } else {
      await sendAm(i);
      await sendRelay(i);
    }
  }
  const durationS = (Date.now() - t0) / 1000;
  await sleep(300);
  const relayAt = await relayArrivals(sandbox, new Set(relaySent.keys()));
  const amAt = await alertmanagerArrivals(sandbox, 'am1.');
  const relayLat: number[] = [];
  const relayAfterAccept: number[] = [];
  for (const [id, sentAt] of relaySent) {
    if (!relayAt.at.has(id)) continue;
    relayLat.push(relayAt.at.get(id)! - sentAt);
    relayAfterAccept.push(relayAt.at.get(id)! - sentAt - relayAccept.get(id)!);
  }
  const amLat: number[] = [];
  for (const [probe, sentAt] of amSent) if (amAt.at.has(probe)) amLat.push(amAt.at.get(probe)! - sentAt);
  const relayP50 = percentile(relayLat, 50);
  const relayP95 = percentile(relayLat, 95);
  const amP50 = percentile(amLat, 50);
  const amP95 = percentile(amLat, 95);
  return {
    figures: {
      relayP50Ms: relayP50,
      relayP95Ms: relayP95,
      alertmanagerP50Ms: amP50,
      alertmanagerP95Ms: amP95,
      p50Ratio: round(relayP50 / amP50, 2),
      p95Ratio: round(relayP95 / amP95, 2),
    },
    details: {
      alerts: n,
      warmupPerSide: warm,
      member: ONE_MEMBER,
      measured: 'Date.now() in the driver before the POST → the stand-in\'s Date.now() at chat.postMessage (1 ms resolution); the next alert is sent once the stand-in has the previous one (its 20 ms poll)',
      relay: {
        delivered: relayLat.length,
        p99Ms: percentile(relayLat, 99),
        maxMs: maxOf(relayLat),
        posts: relayAt.posts,
        // where the time goes: the POST's answer (202), then the queue, the worker and the post
        acceptedP50Ms: percentile([...relayAccept.values()], 50),
        afterAcceptP50Ms: percentile(relayAfterAccept, 50),
        afterAcceptP95Ms: percentile(relayAfterAccept, 95),
      },
      alertmanager: {
        delivered: amLat.length,
        acceptedP50Ms: percentile(amAccept, 50),
        p99Ms: percentile(amLat, 99),
        maxMs: maxOf(amLat),
      },
      waitTimeouts: timeouts,
      durationS: round(durationS, 1),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// 2. and 3. Many alerts at once: to distinct members, or to one

function cpuGroups(env: Env, am: BenchAlertmanager): Record<string, number[]> {
  return {
    relay: [...(env.relay.web ? [env.relay.web.pid] : []), ...env.relay.workers.map((w) => w.pid)],
    redis: [env.ctx.redis.proc.pid],
    alertmanager: [am.proc.pid],
    slackStandIn: [env.sandbox.proc.pid],
  };
}

async function relayBurst(env: Env, am: BenchAlertmanager, n: number, recipient: (i: number) => string, label: string) {
  const { relay, sandbox } = env;
  const base = (await sandbox.stats()).alerts;
  const alerts = Array.from({ length: n }, (_, i) => ({ ...ALERT, text: `${label} ${i}`, recipient: recipient(i) }));
  const refused: Refusals = { requests: 0, alerts: 0, messages: {} };
  const cpu = cpuMeter(cpuGroups(env, am));
  const t0 = Date.now();
  const ids = (await Promise.all(chunk(alerts, PER_REQUEST).map((part) => relayPostBatch(relay, part, refused)))).flat();
  const acceptedMs = Date.now() - t0;
  const timeoutMs = Math.max(60_000, n * 60);
  const seen = await waitAlerts(sandbox, base + n, timeoutMs);
  const coresBusy = cpu();
  await sleep(300);
  const arrivals = await relayArrivals(sandbox, new Set(ids));
  const lastAt = maxOf(arrivals.at.values());
  const spanS = (lastAt - t0) / 1000;
  const delivered = arrivals.at.size;
  return {
    perSec: round(delivered / spanS), // short of n (see delivered): what got there
    delivered,
    timedOut: seen < base + n,
    posts: arrivals.posts,
    maxAlertsPerPost: arrivals.maxPerPost,
    spanS: round(spanS, 2),
    allAcceptedMs: acceptedMs,
    refused503: refused,
    coresBusy,
  };
}

async function alertmanagerBurst(env: Env, am: BenchAlertmanager, phase: 2 | 3, n: number, member: (i: number) => string, expectPosts: number | null) {
  const { sandbox } = env;
  const prefix = `am${phase}.`;
  const base = (await sandbox.stats()).alerts;
  const alerts = Array.from({ length: n }, (_, i) => ({ labels: { alertname: `bench-burst-${phase}`, member: member(i), probe: `${prefix}${i}` } }));
  const cpu = cpuMeter(cpuGroups(env, am));
  const t0 = Date.now();
  await Promise.all(chunk(alerts, PER_REQUEST).map((part) => am.post(part)));
  const acceptedMs = Date.now() - t0;
  let timedOut = false;
  if (expectPosts !== null) {
    timedOut = (await waitAlerts(sandbox, base + expectPosts, Math.max(60_000, n * 60))) < base + expectPosts;
  } else {
    // one group: its first flush goes at once, the alerts added since at the next group_interval
    // tick; wait until every probe showed, or no new post came for 2.5 group intervals
    let shown = 0;
    let posts = 0;
    let lastChange = Date.now();
    const deadline = Date.now() + 30_000;
    for (;;) {
      await sleep(200);
      const now = await alertmanagerArrivals(sandbox, prefix);
      if (now.at.size !== shown || now.posts !== posts) lastChange = Date.now();
      shown = now.at.size;
      posts = now.posts;
      if (shown >= n || Date.now() - lastChange > 2500) break;
      if (Date.now() > deadline) {
        timedOut = true;
        break;
      }
    }
  }
  const coresBusy = cpu();
  await sleep(300);
  const arrivals = await alertmanagerArrivals(sandbox, prefix);
  const lastAt = maxOf(arrivals.at.values());
  const spanS = (lastAt - t0) / 1000;
  return {
    perSec: round(arrivals.at.size / spanS),
    shown: arrivals.at.size,
    timedOut,
    posts: arrivals.posts,
    maxAlertsPerPost: arrivals.maxPerPost,
    spanS: round(spanS, 2),
    allAcceptedMs: acceptedMs,
    coresBusy,
  };
}

// ---------------------------------------------------------------------------------------------
// 4. POST /api/v1/alerts against GET /healthz on one keep-alive connection

async function keepAlive(relay: Relay, n: number, warm: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<Socket>();
  const body = (i: number) => JSON.stringify({ subscription: 'bench', ...ALERT, text: `keep-alive ${i}`, recipient: ONE_MEMBER });
  const call = (method: 'GET' | 'POST', path: string, payload?: string) =>
    new Promise<{ status: number; ms: number }>((resolve, reject) => {
      const started = performance.now();
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: relay.port,
          method,
          path,
          agent,
          headers: payload === undefined ? {} : { ...relayHeaders(relay), 'content-length': String(Buffer.byteLength(payload)) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
        },
      );
      req.on('socket', (socket: Socket) => sockets.add(socket));
      req.on('error', reject);
      req.end(payload);
    });
  const post: number[] = [];
  const health: number[] = [];
  const statuses: Record<string, number> = {};
  const note = (what: string, status: number) => (statuses[`${what} ${status}`] = (statuses[`${what} ${status}`] ?? 0) + 1);
  try {
    for (let i = 0; i < warm + n; i++) {
      // alternated, the order flipping each round
      const order = i % 2 === 0 ? (['post', 'health'] as const) : (['health', 'post'] as const);
      for (const what of order) {
        const r = what === 'post' ? await call('POST', '/api/v1/alerts', body(i)) : await call('GET', '/healthz');
        note(what === 'post' ? 'POST /api/v1/alerts' : 'GET /healthz', r.status);
        if (i >= warm && r.status === (what === 'post' ? 202 : 200)) (what === 'post' ? post : health).push(r.ms);
      }
    }
  } finally {
    agent.destroy();
  }
  const postP50 = percentile(post, 50);
  const healthP50 = percentile(health, 50);
  return {
    postP50Ms: round(postP50, 3),
    healthzP50Ms: round(healthP50, 3),
    diffMs: round(postP50 - healthP50, 3),
    postP99Ms: round(percentile(post, 99), 3),
    healthzP99Ms: round(percentile(health, 99), 3),
    requestsEach: n,
    warmupEach: warm,
    connectionsUsed: sockets.size,
    statuses,
  };
}

// ---------------------------------------------------------------------------------------------
// The relay's records and logs

const PENDING = ['queued', 'delivering', 'retrying'] as const;

async function relayRecords(relay: Relay): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const status of [...PENDING, 'failed', 'suppressed', 'delivered']) out[status] = await relay.countStatus(status);
  return out;
}

/** Lines at pino's error level (50) or above in the relay's logs of this scenario. */
function relayLogErrors(ctx: BenchContext, scenario: string): { count: number; first: string[] } {
  const lines: string[] = [];
  const names = readdirSync(ctx.runDir).filter((f) => f.startsWith(`${scenario}-`) && f.endsWith('.log'));
  for (const name of names) {
    let text: string;
    try {
      text = readFileSync(join(ctx.runDir, name), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const level = /"level":(\d+)/.exec(line)?.[1];
      if ((level && Number(level) >= 50) || (!level && /\b(Error|error)\b/.test(line))) lines.push(`${name}: ${line.slice(0, 400)}`);
    }
  }
  return { count: lines.length, first: lines.slice(0, 5) };
}

// ---------------------------------------------------------------------------------------------

export async function alertmanagerScenario(ctx: BenchContext): Promise<{ figures: AlertmanagerFigures; details: unknown }> {
  const s = alertmanagerSizes(ctx.quick);
  const scenario = 'alertmanager';
  await ctx.redis.flush();
  // a stand-in of its own: it must know the distinct members (more than the shared one's)
  const sandbox = await startSandboxProcess(ctx.root, ctx.runDir, 'sandbox-alertmanager', { benchMembers: s.bulkN });
  const relay = new Relay({
    database: ctx.postgres ? (name) => ctx.postgres!.createDatabase(name) : undefined,
    root: ctx.root,
    runDir: ctx.runDir,
    redisUrl: ctx.redis.url,
    slackApiUrl: sandbox.apiUrl,
    scenario,
    cpuProfDir: ctx.cpuProfDir,
    profile: ctx.profile,
    peaks: ctx.peaks,
    env: { THROTTLE_ONGOING_LIMIT: '100000', THROTTLE_ONGOING_CONCURRENCY: '10000', THROTTLE_INITIAL_LIMIT: '100000', THROTTLE_INITIAL_CONCURRENCY: '10000' },
  });
  const env: Env = { ctx, relay, sandbox };
  const alertmanagers: { name: string; am: BenchAlertmanager; stopped?: { peakRssMb: number | null } }[] = [];
  const startAm = async (name: string, groupBy: string[]) => {
    const am = await startBenchAlertmanager(ctx, name, alertmanagerYaml({ groupBy, apiUrl: `${sandbox.apiUrl}chat.postMessage` }));
    alertmanagers.push({ name, am });
    return am;
  };
  const stopAm = async (am: BenchAlertmanager) => {
    const entry = alertmanagers.find((e) => e.am === am)!;
    entry.stopped ??= await am.stop();
  };
  try {
    await relay.startWeb();
    // no fixed recipient: each alert names its member; the subscription's throttle at the API's maxima
    await relay.createSubscription({ recipient: undefined });
    await relay.startWorkers(WORKERS);

    const am1 = await startAm('am-seq', ['alertname']);
    // 1. one alert at a time, alternated alert by alert
    const seq = await sequential(env, am1, s.sequentialN, s.sequentialWarm);
    await stopAm(am1);
    ctx.log(`    one at a time: relay p50 ${seq.figures.relayP50Ms} / p95 ${seq.figures.relayP95Ms} ms, Alertmanager p50 ${seq.figures.alertmanagerP50Ms} / p95 ${seq.figures.alertmanagerP95Ms} ms`);

    // 2. to distinct members: relay, then Alertmanager (grouped per member: one post each)
    const am2 = await startAm('am-members', ['member']);
    const relayDistinct = await relayBurst(env, am2, s.bulkN, (i) => benchMember(i), 'distinct');
    const amDistinct = await alertmanagerBurst(env, am2, 2, s.bulkN, (i) => benchMember(i), s.bulkN);
    await stopAm(am2);
    ctx.log(`    ${s.bulkN} to distinct members: relay ${relayDistinct.perSec}/s (${relayDistinct.delivered}${refusedNote(relayDistinct.refused503)}), Alertmanager ${amDistinct.perSec}/s (${amDistinct.shown})`);

    // 3. to one member: Alertmanager first this time (one group), then the relay (it coalesces)
    const am3 = await startAm('am-one', ['member']);
    const amOne = await alertmanagerBurst(env, am3, 3, s.bulkN, () => ONE_MEMBER, null);
    const relayOne = await relayBurst(env, am3, s.bulkN, () => ONE_MEMBER, 'one-member');
    await stopAm(am3);
    ctx.log(`    ${s.bulkN} to one member: relay ${relayOne.perSec}/s (${relayOne.delivered} in ${relayOne.posts} posts${refusedNote(relayOne.refused503)}), Alertmanager ${amOne.perSec}/s (${amOne.shown} shown in ${amOne.posts} posts)`);

    // the relay's records, once nothing waits (bounded)
    await waitFor('the relay\'s records to settle', async () => {
      let pending = 0;
      for (const status of PENDING) pending += await relay.countStatus(status);
      return pending === 0;
    }, { timeoutMs: 20_000, intervalMs: 250 }).catch(() => undefined);
    const listed = await relayRecords(relay);
    const accepted = s.sequentialWarm + s.sequentialN + 2 * s.bulkN;
    const notDelivered = [...PENDING, 'failed', 'suppressed'].reduce((sum, status) => sum + listed[status]!, 0);
    const records = {
      accepted,
      ...listed,
      // GET /api/v1/alerts lists at most 1,000 records: past that, delivered = accepted − the others
      delivered: listed.delivered! < 1000 ? listed.delivered! : accepted - notDelivered,
      deliveredListCapped: listed.delivered! >= 1000,
    };

    // 4. keep-alive: with the workers running (the figure), then stopped
    const keepAliveRunning = await keepAlive(relay, s.keepAliveN, s.keepAliveWarm);
    await relay.stopWorkers();
    const keepAliveStopped = await keepAlive(relay, s.keepAliveN, s.keepAliveWarm);
    ctx.log(`    keep-alive: POST p50 ${keepAliveRunning.postP50Ms} ms, /healthz p50 ${keepAliveRunning.healthzP50Ms} ms (workers stopped: ${keepAliveStopped.postP50Ms} / ${keepAliveStopped.healthzP50Ms} ms)`);

    const figures: AlertmanagerFigures = {
      sequential: seq.figures,
      distinctMembers: { relayPerSec: relayDistinct.perSec, alertmanagerPerSec: amDistinct.perSec, ratio: round(relayDistinct.perSec / amDistinct.perSec, 2) },
      oneMember: {
        relayPerSec: relayOne.perSec,
        alertmanagerPerSec: amOne.perSec,
        ratio: round(relayOne.perSec / amOne.perSec, 2),
        relayDelivered: relayOne.delivered,
        alertmanagerShown: amOne.shown,
        alerts: s.bulkN,
      },
      keepAlive: { postP50Ms: keepAliveRunning.postP50Ms, healthzP50Ms: keepAliveRunning.healthzP50Ms, diffMs: keepAliveRunning.diffMs },
      keepAliveQuiet: { postP50Ms: keepAliveStopped.postP50Ms, healthzP50Ms: keepAliveStopped.healthzP50Ms, diffMs: keepAliveStopped.diffMs },
    };
    const standIn = await sandbox.stats();
    return {
      figures,
      details: {
        sizes: s,
        alertmanager: {
          binary: alertmanagerBinary(),
          route: { group_wait: '0s', group_interval: GROUP_INTERVAL, repeat_interval: '1h', groupBy: { sequential: ['alertname'], distinctMembers: ['member'], oneMember: ['member'] } },
          receiver: 'slack_configs: channel {{ .CommonLabels.member }}, send_resolved false, text = the alerts\' probe ids; a fresh instance per part',
          logProblems: alertmanagers.map(({ name, am }) => ({ name, lines: am.problems().length, first: am.problems().slice(0, 3) })),
          peakRssMb: Object.fromEntries(alertmanagers.map(({ name, stopped }) => [name, stopped?.peakRssMb ?? null])),
        },
        relay: {
          workers: WORKERS,
          throttles: 'THROTTLE_* env at 100000 and the subscription throttle at the API maxima (OPEN_THROTTLE)',
          records,
          logErrors: relayLogErrors(ctx, scenario),
        },
        sequential: seq.details,
        distinctMembers: {
          alerts: s.bulkN,
          requests: Math.ceil(s.bulkN / PER_REQUEST),
          perRequest: PER_REQUEST,
          measured: 'alerts / (the stand-in\'s last post carrying one of them − Date.now() before the first request); all requests sent at once',
          relay: relayDistinct,
          alertmanager: amDistinct,
        },
        oneMember: {
          alerts: s.bulkN,
          member: ONE_MEMBER,
          order: 'Alertmanager first, then the relay',
          measured:
            'delivered alerts / (the first post showing the last of them − Date.now() before the first request). Relay: each alert by its id in the posts\' metadata (alert_id, alert_ids), at the stand-in\'s 1 ms clock, not by polling countStatus (capped at 1,000 records per call). Alertmanager: probe ids found in its posts\' text (one group: a post at once, then the whole group at the next group_interval tick)',
          relay: relayOne,
          alertmanager: amOne,
        },
        keepAlive: {
          agent: 'node:http Agent { keepAlive: true, maxSockets: 1 }, requests one after another, POST and GET alternated',
          workersStopped: keepAliveStopped,
          workersRunning: keepAliveRunning,
        },
        standInCalls: standIn.calls,
      },
    };
  } finally {
    for (const entry of alertmanagers) entry.stopped ??= await entry.am.stop().catch(() => ({ peakRssMb: null }));
    await relay.stop().catch(() => undefined);
    await sandbox.stop().catch(() => undefined);
  }
}
