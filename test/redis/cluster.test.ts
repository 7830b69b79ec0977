import { Queue } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atWindowStart, perFixedWindow } from '../helpers/post-timing.js';
import { startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';
import { sleep, startRelayProcesses, type RelayChild, type RelayProcesses } from '../helpers/relay-processes.js';

/**
 * The relay (the real `dist/` web and worker processes) on a three-master Redis Cluster
 * (`REDIS_CLUSTER_NODES`, docs/contract.md §6.3). On a Cluster, QUEUE_PREFIX becomes the hash tag
 * `{prefix}` (src/config.ts), so that BullMQ's scripts and the relay's own (throttle, concurrency
 * leases, Slack 429 scopes, quota, sweeper lock) each find all their keys in one slot; a key
 * without it would fail with CROSSSLOT, or land on another master.
 *
 * The tests run in order on one relay: intake and delivery, the subscription throttle, Slack's
 * 429, readiness and the keys (scanned on every master), then the lost-job sweep (which stops the
 * workers it finds and starts its own).
 */
let cluster: TestRedisCluster;
let relay: RelayProcesses;
let workers: RelayChild[];
/** the relay's own prefix on a Cluster: the helper's QUEUE_PREFIX as a hash tag */
let tag: string;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  relay = await startRelayProcesses({
    // The helper always sets REDIS_URL; with REDIS_CLUSTER_NODES it must be ignored. A port nothing
    // listens on makes any use of it fail loudly instead of silently talking to one node.
    redisUrl: 'redis://127.0.0.1:1',
    env: {
      REDIS_CLUSTER_NODES: cluster.nodesString,
      // BullMQ's global limiter out of the way of this file's ~340 alerts (default: 500 a minute)
      THROTTLE_ONGOING_LIMIT: '5000',
      // Every worker sweeps (and takes the sweeper's lock, PX = its interval) at the sweep test's
      // pace, so the sweep test's worker never waits for a lock an earlier worker took for 30 s.
      SWEEP_INTERVAL_MS: '500',
    },
  });
  tag = `{${relay.queuePrefix}}`;
  await relay.startWeb();
  workers = [await relay.startWorker(), await relay.startWorker()];
}, 60_000);

afterAll(async () => {
  await relay?.close();
  await cluster?.remove();
});

const clusterClient = () => new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: 1 } });

/** POST with the intake key (as an upstream system would); expects 202. */
async function intake(path: string, body: unknown): Promise<any> {
  const res = await fetch(`${relay.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${relay.intakeKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`POST ${path}: ${res.status} ${text}\n${relay.dump()}`);
  return JSON.parse(text);
}

const dmText = (text: string) => `[Info] ${text}`;
const countOf = (text: string) => relay.sandbox.messages().filter((m) => m.text === dmText(text)).length;

describe('the relay on a three-master Redis Cluster', () => {
  it('takes 300 alerts, single and batch, and delivers each exactly once', async () => {
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    const text = (i: number) => `cluster-bulk-${String(i).padStart(3, '0')}`;
    const ids: string[] = [];
    // 100 single alerts, ten in flight at a time
    for (let start = 0; start < 100; start += 10) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, k) => intake('/api/v1/alerts', { subscription: sub.id, text: text(start + k) })),
      );
      for (const answer of answers) {
        expect(answer).toMatchObject({ id: expect.stringMatching(/^alr_/), status: 'queued' });
        ids.push(answer.id);
      }
    }
    // 200 in four batches of 50, two at a time
    for (const pair of [[100, 150], [200, 250]]) {
      const answers = await Promise.all(
        pair.map((from) => intake('/api/v1/alerts/batch', { alerts: Array.from({ length: 50 }, (_, k) => ({ subscription: sub.id, text: text(from + k) })) })),
      );
      for (const answer of answers) {
        expect(answer.alerts).toHaveLength(50);
        ids.push(...answer.alerts.map((a: any) => a.id));
      }
    }
    expect(new Set(ids).size).toBe(300);

    await relay.sandbox.waitForMessages(300, { user: 'U0ALICE', timeoutMs: 20_000 }).catch((error: Error) => {
      throw new Error(`${error.message}: ${relay.sandbox.messages({ user: 'U0ALICE' }).length} of 300 delivered\n${relay.dump()}`);
    });
    await sleep(1500); // a lock (1 s) and a few stalled checks: a double would show by now
    const missingOrDoubled = Array.from({ length: 300 }, (_, i) => ({ i, n: countOf(text(i)) })).filter((x) => x.n !== 1);
    expect(missingOrDoubled, relay.dump()).toEqual([]);
    expect(relay.sandbox.messages({ user: 'U0ALICE' })).toHaveLength(300);

    const records = (await relay.api('GET', `/api/v1/alerts?subscription=${sub.id}&limit=1000`)).body.alerts as any[];
    expect(records.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(records.filter((r) => r.status !== 'delivered' || r.attempts !== 1).map((r) => [r.id, r.status, r.attempts, r.error])).toEqual([]);
    // both worker processes still run
    expect(workers.every((w) => w.alive())).toBe(true);
  }, 45_000);

  it('keeps a subscription to its throttle (5 a second): 15 alerts take three windows', async () => {
    const sub = await relay.createSubscription({ recipient: 'U0BOB', throttle: { ongoing: { limit: 5, seconds: 1 } } });
    await atWindowStart(1000);
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 15 }, (_, i) => intake('/api/v1/alerts', { subscription: sub.id, text: `cluster-throttle-${i}` })));
    const records = await Promise.all(answers.map((a) => relay.waitForAlert(a.id, ['delivered', 'failed'], 15_000)));
    expect(records.map((r) => r.status)).toEqual(Array(15).fill('delivered'));
    const posts = relay.sandbox.messages({ user: 'U0BOB' });
    expect(posts).toHaveLength(15);
    const times = posts.map((p) => p.at).sort((a, b) => a - b);
    const spanMs = times[14]! - times[0]!;
    // The throttle's windows are fixed and aligned to Redis's clock (src/limits/subscription-throttle.ts):
    // at most 5 posts in any of them, so 15 need three, and the third opens 2 s after the first did.
    const windows = perFixedWindow(posts, 1000);
    expect(Math.max(...windows.values())).toBeLessThanOrEqual(5);
    expect(windows.size).toBeGreaterThanOrEqual(3);
    const firstWindowStart = Math.floor(times[0]! / 1000) * 1000;
    expect(times[14]! - firstWindowStart).toBeGreaterThanOrEqual(2000);
    // Between the first and the last post: more than one window whatever the phase, and 2 s only when
    // the first post came at the very start of its window.
    expect(spanMs).toBeGreaterThan(1000);
    console.log(
      `cluster throttle: 15 posts over ${windows.size} windows (${[...windows.values()].join('/')}), first→last ${spanMs} ms, ` +
        `first window start→last ${times[14]! - firstWindowStart} ms, sent ${times[0]! - started} ms before the first post`,
    );
  }, 20_000);

  it('waits out Slack 429s (Retry-After 1 s, twice) and delivers, not fails', async () => {
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    const postsBefore = relay.sandbox.callsTo('chat.postMessage').length;
    relay.sandbox.inject({ kind: 'ratelimit', retryAfter: 1, method: 'chat.postMessage', times: 2 });
    const started = Date.now();
    const { id } = await intake('/api/v1/alerts', { subscription: sub.id, text: 'cluster-429' });
    const record = await relay.waitForAlert(id, ['delivered', 'failed'], 15_000);
    const tookMs = Date.now() - started;
    expect(record, relay.dump()).toMatchObject({ status: 'delivered', attempts: 1, error: null });
    expect(relay.sandbox.callsTo('chat.postMessage').slice(postsBefore).map((c) => c.status)).toEqual([429, 429, 200]);
    expect(countOf('cluster-429')).toBe(1);
    expect(tookMs).toBeGreaterThanOrEqual(1800);
    // the 429 counter the workers keep in Redis (on the Cluster) reaches /metrics
    const metrics = await relay.api('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(Number(/^relay_slack_rate_limited_total (\d+)/m.exec(metrics.text)?.[1])).toBeGreaterThanOrEqual(2);
  }, 20_000);

  it('is ready (/readyz: redis ok), and every key it made on every master carries the hash tag', async () => {
    const ready = await fetch(`${relay.url}/readyz`);
    const body = await ready.json();
    expect(ready.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ checks: { redis: 'ok', database: 'ok' } });

    const byNode = new Map<number, string[]>();
    for (const node of cluster.nodes) {
      const client = new Redis(node.port, node.host, { maxRetriesPerRequest: 1 });
      try {
        const role = await client.call('ROLE');
        expect((role as unknown[])[0]).toBe('master');
        const keys: string[] = [];
        let cursor = '0';
        do {
          const [next, batch] = await client.scan(cursor, 'MATCH', '*', 'COUNT', 1000);
          keys.push(...batch);
          cursor = next;
        } while (cursor !== '0');
        byNode.set(node.port, keys);
      } finally {
        client.disconnect();
      }
    }
    const all = [...byNode.values()].flat();
    const untagged = all.filter((key) => !key.startsWith(`${tag}:`));
    expect(untagged).toEqual([]);
    // the relay's keys of every kind were there to check: BullMQ's and its own
    const kinds = [...new Set(all.map((key) => key.slice(tag.length + 1).split(':')[0]))].sort();
    expect(kinds).toEqual(expect.arrayContaining(['alerts-ongoing', 'alerts-initial', 'throttle', 'slack-429', 'metrics', 'intake-quota']));
    // one slot: all of them on one master
    expect([...byNode.values()].filter((keys) => keys.length > 0)).toHaveLength(1);
    console.log(`cluster keys: ${all.length} keys, all under ${tag}, on one master; kinds: ${kinds.join(', ')}`);
  });

  it('re-adds a job whose hash was deleted (no worker running), and it is delivered once', async () => {
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    await stopAllWorkers();
    const { id } = await intake('/api/v1/alerts', { subscription: sub.id, text: 'cluster-lost-hash' });
    const redis = clusterClient();
    try {
      const jobKey = `${tag}:alerts-ongoing:${id}`;
      expect(await redis.exists(jobKey)).toBe(1);
      expect(await redis.del(jobKey)).toBe(1);
      expect(await redis.exists(jobKey)).toBe(0);
    } finally {
      redis.disconnect();
    }
    expect((await relay.api('GET', `/api/v1/alerts/${id}`)).body.status).toBe('queued');

    const worker = await relay.startWorker({ SWEEP_INTERVAL_MS: '500', SWEEP_MIN_AGE_MS: '0' });
    const record = await relay.waitForAlert(id, ['delivered', 'failed'], 10_000).catch((error: Error) => ({ status: 'timeout', error: error.message }));
    await sleep(1500); // several more sweeps: none may double it
    expect(record, `${JSON.stringify(record)}\n${worker.output()}`).toMatchObject({ status: 'delivered' });
    expect(countOf('cluster-lost-hash')).toBe(1);
    // the job's id still waits in the queue: the worker that takes it rebuilds it from the record (or the sweep re-adds it first)
    const recovered = ['a job had lost its data; delivering from the record', 're-enqueued alerts whose jobs were lost'];
    expect(worker.logs().some((l) => recovered.includes(String(l.msg)))).toBe(true);
  }, 30_000);

  it('re-adds a job removed whole (hash and queue entry, as a lost write loses it), and it is delivered once', async () => {
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    await stopAllWorkers();
    const { id } = await intake('/api/v1/alerts', { subscription: sub.id, text: 'cluster-lost-job' });
    const redis = clusterClient();
    const queue = new Queue('alerts-ongoing', { connection: redis, prefix: tag });
    try {
      expect(await queue.remove(id)).toBe(1);
      expect(await redis.exists(`${tag}:alerts-ongoing:${id}`)).toBe(0);
    } finally {
      await queue.close();
      redis.disconnect();
    }

    const worker = await relay.startWorker({ SWEEP_INTERVAL_MS: '500', SWEEP_MIN_AGE_MS: '0' });
    const record = await relay.waitForAlert(id, ['delivered', 'failed'], 10_000).catch((error: Error) => ({ status: 'timeout', error: error.message }));
    await sleep(1500);
    expect(record, `${JSON.stringify(record)}\n${worker.output()}`).toMatchObject({ status: 'delivered' });
    expect(countOf('cluster-lost-job')).toBe(1);
    expect(worker.logs().some((l) => l.msg === 're-enqueued alerts whose jobs were lost')).toBe(true);
  }, 30_000);
});

/** SIGTERM every running worker and wait until it has exited: nothing consumes any more. */
async function stopAllWorkers(): Promise<void> {
  const running = relay.workers.filter((w) => w.alive());
  for (const w of running) w.terminate();
  const exits = await Promise.all(running.map((w) => w.exited));
  expect(exits.map((e) => e.code), relay.dump()).toEqual(running.map(() => 0));
}
