import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netnsUnavailableReason } from '../helpers/netns.js';
import { sleep } from '../helpers/process-utils.js';
import { BOT_TOKEN, createManyHosts, OPEN_THROTTLE, QUEUE_PREFIX, relayOnHosts, type ManyHosts, type RelayOnHosts } from './cluster.js';
import { listTree, localPortsTo, type HostProcess } from './host-process.js';
import { isRepeatOp, runLoad, type LoadResult } from './load.js';
import { startSlackHost, type SlackHost } from './slack-host-client.js';

/**
 * The relay run the way a Procfile platform runs it, on many hosts (docs/contract.md §6.3: with
 * DATABASE_URL, web and workers may run on hosts that share only Redis and PostgreSQL):
 *
 * - an "infra" host with redis-server (AOF, no RDB, noeviction) and PostgreSQL, two web hosts and
 *   three worker hosts, each its own network namespace with its own empty working folder (cwd,
 *   HOME and TMPDIR), sharing no disk but the code in this repository (./cluster.ts);
 * - `release` once from a web host, then `web` ×2 and `worker` ×3, exactly as the Procfile says;
 * - the Slack sandbox in a process of its own (./slack-host.ts), behind a recording front
 *   (./slack-front.ts), both on the test's leg into the hosts' network, with a Slack-like latency
 *   on chat.postMessage;
 * - LOAD_TOTAL POSTs at LOAD_RATE/s, 20 at a time, alternately to the two web processes, 10 % of
 *   them repeating an idempotency key already accepted by the *other* web process (./load.ts);
 * - in the middle: one worker SIGKILLed while it is posting, later PostgreSQL killed
 *   (`pg_ctl stop -m immediate`) and started again ~2 s later.
 *
 * Asserted: no 500, no hang, no other unexpected answer; every repeat 200 with the first id; every
 * 503 `unavailable` (only while PostgreSQL is down or coming back) within a second; every distinct
 * alert delivered exactly once (the sandbox's messages, by a marker per alert) and its record
 * `delivered` with that message's ts; the killed worker's jobs delivered by the others; the
 * working folders still empty; a host cannot reach the machine's own services.
 *
 * Figures (run time, intake and delivery throughput, the 503 window, the takeover after the kill)
 * are printed at the end as `many-hosts figures: {...}`.
 *
 * Where network namespaces are refused (or MANY_HOSTS_FALLBACK=1), everything runs in the
 * machine's namespace on 127.0.0.1, each process still with its own folder and HOME; the suite's
 * name says so, and the isolation test is skipped by name.
 */

const LOAD_TOTAL = Number(process.env.MANY_HOSTS_TOTAL ?? 5000);
const LOAD_RATE = Number(process.env.MANY_HOSTS_RATE ?? 200);
const LOAD_CONCURRENCY = 20;
/** what a chat.postMessage takes at Slack, more or less */
const SLACK_LATENCY_MS = 40;
/** §5: 503 in under a second, measured at the client (its own event loop included) */
const UNAVAILABLE_WITHIN_MS = 1000;
const PG_DOWN_MS = 2000;
const KILL_AT = 0.25;
const PG_RESTART_AT = 0.55;
const RECIPIENTS = ['U0ALICE', 'U0BOB', 'W0CAROL'];
/** Bounds, so that a stuck relay fails with its figures rather than a bare timeout. */
const LOAD_DEADLINE_MS = 120_000;
const OP_DEADLINE_MS = 20_000;
const SETTLE_DEADLINE_MS = 60_000;

const RUN_ID = randomBytes(4).toString('hex');
const marker = (n: number) => `mhost-${RUN_ID}-a${n}z`;
const MARKER = new RegExp(`mhost-${RUN_ID}-a(\\d+)z`);

const fallbackReason = process.env.MANY_HOSTS_FALLBACK === '1' ? 'MANY_HOSTS_FALLBACK=1' : await netnsUnavailableReason();
const SUITE = fallbackReason
  ? `many hosts — FALLBACK: no network namespaces (${fallbackReason}); all processes in the machine's namespace, separate folders and HOMEs only`
  : 'many hosts — 1 infra + 2 web + 3 worker network namespaces';

const percentile = (values: number[], p: number) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

describe(SUITE, () => {
  const figures: Record<string, unknown> = {};
  const suiteStarted = Date.now();
  let hosts: ManyHosts;
  let slack: SlackHost;
  let relay: RelayOnHosts;
  let webs: HostProcess[] = [];
  let workers: HostProcess[] = [];
  let subscriptionId: string;
  let redis: Redis;

  const admin = async (web: number, path: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await fetch(`${relay.webUrls[web]}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${relay.adminKey}`, 'content-type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  const query = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> => {
    const client = new pg.Client({ connectionString: hosts.postgres.url, connectionTimeoutMillis: 5000 });
    client.on('error', () => {});
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end().catch(() => {});
    }
  };

  beforeAll(async () => {
    if (fallbackReason) console.warn(`[many-hosts] FALLBACK MODE: ${fallbackReason}. No network isolation between the "hosts".`);
    const t0 = Date.now();
    hosts = await createManyHosts({ webs: 2, workers: 3 });
    figures.mode = hosts.mode;
    figures.infraMs = Date.now() - t0;
    // a Slack-like latency, so that a killed worker dies with posts in flight
    slack = await startSlackHost({ listen: hosts.testAddress, latencyMs: SLACK_LATENCY_MS, markerPattern: MARKER });
    relay = relayOnHosts({ hosts, slackApiUrl: slack.apiUrl });
    redis = new Redis(hosts.redis.port, hosts.redis.address, { maxRetriesPerRequest: null });
    redis.on('error', () => {});

    const t1 = Date.now();
    await relay.release(hosts.webs[0]!);
    figures.releaseMs = Date.now() - t1;
    const t2 = Date.now();
    webs = await Promise.all(hosts.webs.map((host) => relay.startWeb(host)));
    workers = await Promise.all(hosts.workers.map((host) => relay.startWorker(host)));
    figures.processesStartMs = Date.now() - t2;

    const created = await admin(0, '/api/v1/subscriptions', {
      method: 'POST',
      body: {
        name: `Many hosts ${RUN_ID}`,
        version: 'v1.0',
        apiUrl: slack.apiUrl,
        apiToken: BOT_TOKEN,
        clientId: '1234567890.0987654321',
        recipient: 'U0ALICE',
        throttle: OPEN_THROTTLE,
      },
    });
    if (created.status !== 201) throw new Error(`create subscription: ${created.status} ${JSON.stringify(created.body)}\n${relay.dump()}`);
    subscriptionId = created.body.id;
    figures.setupMs = Date.now() - t0;
  }, 150_000);

  afterAll(async () => {
    figures.suiteMs = Date.now() - suiteStarted;
    console.log(`many-hosts figures: ${JSON.stringify(figures, null, 2)}`);
    redis?.disconnect();
    await relay?.close();
    await slack?.close();
    await hosts?.remove();
  }, 60_000);

  let load: LoadResult;
  const connections = new Map<string, { redis: boolean; postgres: boolean }>();
  const distinct = LOAD_TOTAL - Array.from({ length: LOAD_TOTAL }, (_, op) => op).filter(isRepeatOp).length;

  it(`${LOAD_TOTAL} alerts to two web processes, ~10 % repeats across them, a worker SIGKILLed and PostgreSQL restarted: each delivered exactly once`, async () => {
    const victim = workers[0]!;
    const victimHost = hosts.workers[0]!;
    let accepted = 0;
    const kill: { at: number; inFlightPosts: number[]; orphans: string[]; victimWorkerId: string | null; waitedMs: number } = {
      at: 0,
      inFlightPosts: [],
      orphans: [],
      victimWorkerId: null,
      waitedMs: 0,
    };
    const pgTimes = { killStart: 0, down: 0, startBegin: 0, up: 0 };
    const ids = new Map<number, string>();
    let loadDone = false;
    const until = async (done: () => boolean) => {
      while (!done() && !loadDone) await sleep(10);
    };
    // which relay processes hold connections to the infra host's Redis and PostgreSQL (sampled)
    const sampler = setInterval(() => {
      for (const proc of [...webs, ...workers]) {
        const seen = connections.get(proc.name) ?? { redis: false, postgres: false };
        seen.redis ||= proc.connectedTo(hosts.infra.address, hosts.redis.port);
        seen.postgres ||= proc.connectedTo(hosts.infra.address, hosts.postgres.port);
        connections.set(proc.name, seen);
      }
    }, 500);
    const frontPort = Number(new URL(slack.frontUrl).port);

    /** The victim's chat.postMessage calls in flight at the front: its sockets' ports, its address. */
    const victimPostsInFlight = async () => {
      const calls = await slack.inFlight();
      const ports = new Set(localPortsTo(victim.pid, hosts.testAddress, frontPort));
      return calls.filter((call) => call.method === 'chat.postMessage' && call.from === victimHost.address && ports.has(call.fromPort));
    };
    /** Active jobs of alerts-ongoing with their lock tokens (`<BullMQ worker id>:<n>`). */
    const activeLocks = async () => {
      const active = await redis.lrange(`${QUEUE_PREFIX}:alerts-ongoing:active`, 0, -1);
      const tokens = active.length ? await redis.mget(...active.map((id) => `${QUEUE_PREFIX}:alerts-ongoing:${id}:lock`)) : [];
      return new Map(active.map((id, i) => [id, tokens[i] ?? null]));
    };

    const faults = (async () => {
      await until(() => accepted >= distinct * KILL_AT);
      // SIGKILL the first worker while it has a post in flight (at most 10 s of looking)
      const lookStart = Date.now();
      let inFlight = await victimPostsInFlight();
      while (inFlight.length === 0 && Date.now() - lookStart < 10_000) {
        await sleep(2);
        inFlight = await victimPostsInFlight();
      }
      victim.child.kill('SIGKILL');
      kill.at = Date.now();
      kill.waitedMs = kill.at - lookStart;
      kill.inFlightPosts = inFlight.flatMap((call) => call.markers);
      // its jobs: the active ones whose lock its BullMQ worker holds (found from a job it was posting)
      const locks = await activeLocks();
      // A post can go out before its 202 has reached this (busy) process: wait for the ids of the
      // posts in flight before looking their locks up in the snapshot just taken.
      const idsBy = Date.now() + 5000;
      while (!kill.inFlightPosts.every((n) => ids.has(n)) && Date.now() < idsBy) await sleep(10);
      for (const n of kill.inFlightPosts) {
        const token = locks.get(ids.get(n) ?? '');
        if (token) kill.victimWorkerId = token.split(':')[0]!;
      }
      kill.orphans = [...locks].filter(([, token]) => kill.victimWorkerId && token?.startsWith(`${kill.victimWorkerId}:`)).map(([id]) => id);
      await victim.exited;

      await until(() => accepted >= distinct * PG_RESTART_AT);
      pgTimes.killStart = Date.now();
      await hosts.postgres.kill();
      pgTimes.down = Date.now();
      await sleep(PG_DOWN_MS);
      pgTimes.startBegin = Date.now();
      await hosts.postgres.start();
      pgTimes.up = Date.now();
    })();

    // progress, every 5 s: what a hang or a slow run looked like
    // answers per web process since the last progress line: { web1: { 202: n, 503: n, … } }
    let answers: Record<string, Record<string, number>> = {};
    const progress = setInterval(() => {
      const recent = answers;
      answers = {};
      void slack.stats().then(
        (stats) => {
          const line = {
            s: Math.round((Date.now() - loadStarted) / 1000),
            accepted,
            answers: recent,
            ...stats,
            killedAt: kill.at ? Math.round((kill.at - loadStarted) / 1000) : null,
            pg: pgTimes.killStart ? (pgTimes.up ? 'restarted' : 'down') : 'up',
          };
          console.log(`[many-hosts] ${JSON.stringify(line)}`);
        },
        () => {},
      );
    }, 5000);
    const loadStarted = Date.now();
    load = await runLoad({
      webUrls: relay.webUrls,
      intakeKey: relay.intakeKey,
      subscriptionId,
      recipients: RECIPIENTS,
      marker,
      runId: RUN_ID,
      total: LOAD_TOTAL,
      concurrency: LOAD_CONCURRENCY,
      ratePerSecond: LOAD_RATE,
      requestTimeoutMs: 5000,
      retryDelayMs: 100,
      opDeadlineMs: OP_DEADLINE_MS,
      stopStartingAt: loadStarted + LOAD_DEADLINE_MS,
      onAnswer: (attempt) => {
        const web = `web${attempt.web + 1}`;
        const byStatus = (answers[web] ??= {});
        byStatus[attempt.status] = (byStatus[attempt.status] ?? 0) + 1;
      },
      onAccepted: (n, alert) => {
        accepted = n;
        ids.set(alert.n, alert.id!);
      },
    }).finally(() => {
      loadDone = true;
      clearInterval(sampler);
    });
    await faults;
    const loadMs = load.endedAt - loadStarted;

    // Everything delivered: every record final, and nothing left in the queues.
    const deliveredBy = Date.now() + SETTLE_DEADLINE_MS;
    let counts: Record<string, number>;
    for (;;) {
      const rows = await query<{ status: string; n: number }>('select status, count(*)::int as n from alerts group by status').catch(() => []);
      counts = Object.fromEntries(rows.map((r) => [r.status, r.n]));
      const waiting = (counts.queued ?? 0) + (counts.retrying ?? 0) + (counts.delivering ?? 0);
      const queueLeft = await Promise.all(
        ['active', 'wait', 'delayed', 'prioritized', 'paused'].map(async (state) => {
          const key = `${QUEUE_PREFIX}:alerts-ongoing:${state}`;
          const type = await redis.type(key);
          return type === 'list' ? redis.llen(key) : type === 'zset' ? redis.zcard(key) : 0;
        }),
      );
      if (waiting === 0 && queueLeft.every((n) => n === 0)) break;
      if (Date.now() > deliveredBy) break;
      await sleep(250);
    }
    clearInterval(progress);
    const settledAt = Date.now();
    await sleep(1000); // anything still landing lands now

    // ---- the figures
    const messages = await slack.messages();
    const frontCalls = await slack.calls();
    const seen = new Map<number, { ts: string; at: number }[]>();
    let foreign = 0;
    for (const message of messages) {
      const found = [...message.text.matchAll(new RegExp(MARKER.source, 'g'))].map((m) => Number(m[1]));
      if (found.length === 0) foreign += 1;
      for (const n of found) seen.set(n, [...(seen.get(n) ?? []), { ts: message.ts, at: message.at }]);
    }
    const duplicates = [...seen].filter(([, list]) => list.length > 1).map(([n, list]) => ({ n, id: ids.get(n), copies: list.length, ats: list.map((m) => m.at - kill.at) }));
    // accepted (202, or 200 after a 503) and never delivered: lost
    const missing = load.alerts.filter((a) => a?.id && !seen.has(a.n)).map((a) => ({ n: a.n, id: a.id }));
    const unknown = [...seen.keys()].filter((n) => !load.alerts[n]);
    const ats = messages.map((m) => m.at);
    const deliverySpanMs = Math.max(...ats) - Math.min(...ats);

    const unavailable = load.unavailable;
    const latencies = unavailable.map((a) => a.endedAt - a.startedAt);
    const firstAfterUp = load.alerts
      .flatMap((a) => (a?.acceptedAt && a.acceptedAt > pgTimes.up ? [a.acceptedAt] : []))
      .sort((a, b) => a - b)[0];
    const window503 = unavailable.length
      ? { first: Math.min(...unavailable.map((a) => a.startedAt)), last: Math.max(...unavailable.map((a) => a.endedAt)) }
      : null;

    const records = await query<{ id: string; status: string; slack_ts: string | null; delivered_at: number | null; attempts: number; error_code: string | null }>(
      'select id, status, slack_ts, delivered_at::float8 as delivered_at, attempts, error_code from alerts',
    );
    const byId = new Map(records.map((r) => [r.id, r]));
    // taken over: the orphans another worker delivered (the victim may still have finished one at the very kill)
    const takenOver = kill.orphans.filter((id) => Number(byId.get(id)?.delivered_at ?? 0) > kill.at);
    const orphanDelivered = takenOver.map((id) => Number(byId.get(id)!.delivered_at) - kill.at);
    // each orphan's messages in the end (the victim's post may have been carried out with its answer lost:
    // the worker that took over then finds it in the DM and posts nothing)
    const idToN = new Map([...ids].map(([n, id]) => [id, n]));
    const orphanMessages = kill.orphans.map((id) => seen.get(idToN.get(id) ?? -1)?.length ?? 0);
    const postsByHost: Record<string, number> = {};
    for (const call of frontCalls) {
      if (call.method === 'chat.postMessage' && call.status === 200) {
        // by address: one per host in namespaces; in FALLBACK mode they all share 127.0.0.1
        const name = hosts.mode === 'netns' ? (hosts.workers.find((h) => h.address === call.from)?.name ?? call.from) : 'all workers (127.0.0.1)';
        postsByHost[name] = (postsByHost[name] ?? 0) + 1;
      }
    }

    Object.assign(figures, {
      alertsSent: LOAD_TOTAL,
      distinctAlerts: distinct,
      repeats: load.repeats.length,
      loadMs,
      loadRatePerSecondTarget: LOAD_RATE,
      intakePerSecond: Math.round(((ids.size + load.repeats.length) / loadMs) * 1000),
      sandboxMessages: messages.length,
      deliverySpanMs,
      deliveryPerSecond: Math.round((messages.length / Math.max(1, deliverySpanMs)) * 1000),
      lastDeliveryAfterLoadEndMs: Math.max(...ats) - load.endedAt,
      settledAfterLoadEndMs: settledAt - load.endedAt,
      postsByWorkerHost: postsByHost,
      recordCounts: counts,
      workerKill: {
        atAccepted: `${Math.round(KILL_AT * 100)} %`,
        waitedForInFlightPostMs: kill.waitedMs,
        victimPostsInFlight: kill.inFlightPosts.length,
        orphanedJobs: kill.orphans.length,
        takenOver: takenOver.length,
        takeoverMs: { first: percentile(orphanDelivered, 0), median: percentile(orphanDelivered, 50), last: percentile(orphanDelivered, 100) },
      },
      postgresRestart: {
        killMs: pgTimes.down - pgTimes.killStart,
        downMs: pgTimes.up - pgTimes.killStart,
        startMs: pgTimes.up - pgTimes.startBegin,
        unavailableAnswers: unavailable.length,
        window503: window503 && {
          firstAfterKillMs: window503.first - pgTimes.killStart,
          lastAfterStartedMs: window503.last - pgTimes.up,
          spanMs: window503.last - window503.first,
        },
        unavailableLatencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: percentile(latencies, 100) },
        firstAcceptedAfterStartMs: firstAfterUp === undefined ? null : firstAfterUp - pgTimes.up,
        storedDespite503: load.alerts.filter((a) => a?.acceptedWith === 200).length,
      },
      duplicates: duplicates.length,
      missing: missing.length,
      unexpectedAnswers: load.unexpected.length,
    });
    if (process.env.MANY_HOSTS_ARTIFACTS) {
      // for a post-mortem: everything the figures come from
      const dir = process.env.MANY_HOSTS_ARTIFACTS;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'figures.json'), JSON.stringify({ figures, kill, pgTimes, duplicates, missing }, null, 2));
      writeFileSync(join(dir, 'load.json'), JSON.stringify(load));
      writeFileSync(join(dir, 'front-calls.json'), JSON.stringify(frontCalls));
      writeFileSync(join(dir, 'messages.json'), JSON.stringify(messages));
      writeFileSync(join(dir, 'records.json'), JSON.stringify(await query('select * from alerts')));
      for (const proc of relay.processes) writeFileSync(join(dir, `${proc.name}.log`), proc.output());
    }
    const context = () => `figures: ${JSON.stringify(figures)}\n${relay.dump().slice(-20_000)}`;

    // ---- intake
    expect.soft(load.unexpected.slice(0, 20), `unexpected answers (500, hangs, others)\n${context()}`).toEqual([]);
    expect.soft(load.skipped, `ops never started: the load ran out of its ${LOAD_DEADLINE_MS} ms`).toBe(0);
    expect.soft(load.alerts.filter((a) => !a?.id).length, 'distinct alerts never accepted').toBe(0);
    expect.soft(new Set(ids.values()).size, 'one id per distinct alert').toBe(distinct);
    expect.soft(load.repeats.length, 'repeats sent').toBe(LOAD_TOTAL - distinct);
    expect.soft(load.repeats.filter((r) => r.web === load.alerts[r.of]!.web), 'a repeat goes to the other web process').toEqual([]);
    expect
      .soft(load.repeats.filter((r) => r.status !== 200 || r.id !== r.expectedId).map((r) => ({ op: r.op, of: r.of, status: r.status, id: r.id, expected: r.expectedId })))
      .toEqual([]);
    // 503 while PostgreSQL is down, within a second, and only then
    expect.soft(unavailable.length, 'intake answered 503 while PostgreSQL was down').toBeGreaterThan(0);
    expect.soft(Math.max(0, ...latencies), `503 latency (ms) ≤ ${UNAVAILABLE_WITHIN_MS}`).toBeLessThanOrEqual(UNAVAILABLE_WITHIN_MS);
    expect.soft(unavailable.filter((a) => a.endedAt < pgTimes.killStart).length, '503s before PostgreSQL went down').toBe(0);

    // ---- delivery: exactly once
    expect.soft(duplicates.slice(0, 20), `duplicate DMs\n${context()}`).toEqual([]);
    expect.soft(missing.slice(0, 20), `alerts never delivered\n${context()}`).toEqual([]);
    expect.soft(unknown, 'messages for alerts that were never accepted').toEqual([]);
    expect.soft(foreign, 'messages without a marker').toBe(0);

    // ---- the records: all delivered, each with the ts of its message
    expect.soft(counts, 'record statuses').toEqual({ delivered: distinct });
    expect.soft(records.length).toBe(distinct);
    const notMatching = load.alerts
      .filter((a) => a?.id && seen.get(a.n)?.length === 1 && byId.get(a.id)?.slack_ts !== seen.get(a.n)![0]!.ts)
      .map((a) => ({ n: a.n, id: a.id, record: byId.get(a.id!)?.slack_ts, message: seen.get(a.n)![0]!.ts }));
    expect.soft(notMatching.slice(0, 10), "a record's slack ts is its message's").toEqual([]);
    // …and so says the admin API of either web process
    for (const web of [0, 1]) {
      for (const status of ['queued', 'retrying', 'delivering', 'failed']) {
        const res = await admin(web, `/api/v1/alerts?status=${status}&limit=1000`);
        expect.soft({ web, status, code: res.status, alerts: res.body.alerts?.length }).toEqual({ web, status, code: 200, alerts: 0 });
      }
      const delivered = await admin(web, '/api/v1/alerts?status=delivered&limit=1000');
      expect.soft(delivered.body.alerts?.length).toBe(Math.min(1000, distinct));
      expect.soft(delivered.body.alerts?.every((a: { status: string }) => a.status === 'delivered')).toBe(true);
    }

    // ---- the worker kill: it died holding jobs, and the others delivered them
    expect.soft((await victim.exited).signal).toBe('SIGKILL');
    expect.soft(kill.inFlightPosts.length, 'the victim had a post in flight when it was killed').toBeGreaterThan(0);
    expect.soft(kill.orphans.length, 'jobs held by the victim when it was killed').toBeGreaterThan(0);
    expect.soft(takenOver.length, 'orphans delivered by the other workers').toBeGreaterThan(0);
    expect
      .soft(
        kill.orphans.map((id, i) => ({ id, messages: orphanMessages[i]! })).filter(({ messages }) => messages !== 1),
        "each of the victim's jobs is one message (posted by it before it died, or by a worker that took it over)",
      )
      .toEqual([]);
    const dead = await Promise.all(
      [...webs, ...workers.slice(1)]
        .filter((p) => !p.alive())
        .map(async (p) => ({ name: p.name, exit: await p.exited, lastOutput: p.output().slice(-1500) })),
    );
    expect.soft(dead, 'web and surviving worker processes still running (through the worker kill and the PostgreSQL restart)').toEqual([]);
  }, LOAD_DEADLINE_MS + OP_DEADLINE_MS + SETTLE_DEADLINE_MS + 60_000);

  it('leaves the working folders of the web and worker hosts empty (nothing under ./data, nothing anywhere)', () => {
    const contents = [...hosts.webs, ...hosts.workers].map((host) => ({ host: host.name, dir: host.dir, entries: listTree(host.dir) }));
    expect(contents.filter((c) => c.entries.length > 0)).toEqual([]);
  });

  it.skipIf(fallbackReason !== null)(
    `a host cannot reach the machine's own services${fallbackReason ? ' (skipped: FALLBACK mode has no separate hosts)' : ''}`,
    async () => {
      const probe = async (address: string, port: number) => {
        // from a worker host that is still running a worker
        const host = hosts.workers[1]!;
        const result = await host.run(
          process.execPath,
          [
            '-e',
            `require('node:net').connect(${port}, '${address}').on('connect', () => { console.log('CONNECTED'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); })`,
          ],
          { cwd: host.dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: host.dir } },
        );
        return { port, at: address, answer: result.stdout.trim() || result.stderr.trim() };
      };
      for (const port of [6379, 5432]) {
        // the machine's own Redis and PostgreSQL listen on its 127.0.0.1; the host's 127.0.0.1 is its own
        expect(await probe('127.0.0.1', port)).toEqual({ port, at: '127.0.0.1', answer: 'ECONNREFUSED' });
        // nor are they reachable through the test's leg into the network
        expect(await probe(hosts.testAddress, port)).toEqual({ port, at: hosts.testAddress, answer: 'ECONNREFUSED' });
        // …while the infra host's servers answer on its address
        expect(await probe(hosts.infra.address, port)).toEqual({ port, at: hosts.infra.address, answer: 'CONNECTED' });
      }
      // and every relay process did talk to the infra host's Redis and PostgreSQL (sampled during the load)
      expect(Object.fromEntries(connections)).toEqual(
        Object.fromEntries([...webs, ...workers].map((p) => [p.name, { redis: true, postgres: true }])),
      );
    },
    30_000,
  );
});
