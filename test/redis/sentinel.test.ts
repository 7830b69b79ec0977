import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisSentinel, type TestRedisSentinel } from '../helpers/redis-sentinel.js';
import { sleep, startRelayProcesses, waitUntil, type RelayChild, type RelayProcesses } from '../helpers/relay-processes.js';

/**
 * The relay (one web process, two worker processes: the real `dist/` entry points) on a Redis
 * Sentinel set (`REDIS_URL=redis+sentinel://…/mymaster`), with a steady stream of alerts, while the
 * master is SIGKILLed and the sentinels promote the replica (docs/contract.md §6.3: "workers resume by
 * themselves after a failover"; §5: 503 `unavailable` within a second, never a hang; §4: nothing is
 * lost, nothing doubles).
 *
 * Measured: how long the sentinels take (kill → every sentinel names the replica, and it says
 * role:master), and the window in which intake answered 503.
 *
 * Expected:
 * - every answer is 202 or 503 `unavailable` (with Retry-After), each within a second;
 * - 503s only between the kill and shortly after the failover (ioredis' reconnect backoff is at most
 *   2 s, src/queues/redis.ts), 202 before and after;
 * - every alert answered 202 is delivered exactly once, no refused one at all;
 * - the same two worker processes (same pids, never restarted) deliver the alerts sent after the
 *   failover, and both of them consume again.
 *
 * The lost-job sweep runs every second here (records untouched for 5 s): a write the master
 * acknowledged but had not yet replicated when it died is lost with it (asynchronous replication),
 * and the sweep is the relay's answer to that (§4). Its log line says whether it had to act.
 */
const TOTAL = 400;
const EVERY_MS = 20;
/** the alert at which the master dies (1.6 s into the 8 s stream) */
const KILL_AT = 80;
/** after the sentinels' failover, how long the relay may still take to reconnect (its retry backoff caps at 2 s) */
const RECOVERY_GRACE_MS = 2500;
/** §5: a refusal is answered in under a second */
const ANSWER_WITHIN_MS = 1000;

let sentinel: TestRedisSentinel;
let relay: RelayProcesses;
let workers: RelayChild[];

interface Sent {
  i: number;
  text: string;
  sentAt: number;
  answeredAt: number;
  status: number;
  body: any;
  retryAfter: string | null;
  error?: string;
}

beforeAll(async () => {
  sentinel = await startRedisSentinel();
  relay = await startRelayProcesses({
    redisUrl: sentinel.sentinelUrl,
    env: {
      REDIS_URL: sentinel.sentinelUrl,
      // two deliveries at a time per worker: enough for the stream, and lets the probe at the end
      // tell whether both workers consume
      WORKER_CONCURRENCY: '2',
      // no throttle in the way of 400 alerts in 8 s (the default is 500 a minute)
      THROTTLE_ONGOING_LIMIT: '5000',
      SWEEP_INTERVAL_MS: '1000',
      SWEEP_MIN_AGE_MS: '5000',
    },
  });
  await relay.startWeb();
  workers = [await relay.startWorker(), await relay.startWorker()];
}, 60_000);

afterAll(async () => {
  await relay?.close();
  await sentinel?.remove();
});

describe('a Sentinel failover under a steady stream of alerts', () => {
  it('answers 503 only during the failover, delivers every accepted alert exactly once, with the same workers', async () => {
    const workerPids = workers.map((w) => w.pid);
    const webPid = relay.web!.pid;
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    const textOf = (i: number) => `sentinel-stream-${String(i).padStart(4, '0')}`;
    // the DM's plain text is "[Info] <text>" (src/slack/alert-message.ts)
    const delivered = () => {
      const counts = new Map<string, number>();
      for (const m of relay.sandbox.messages({ user: 'U0ALICE' })) {
        const text = m.text.replace(/^\[Info\] /, '');
        counts.set(text, (counts.get(text) ?? 0) + 1);
      }
      return counts;
    };

    // warm-up: the first deliveries pay for JIT and connections
    const warmup = await Promise.all([0, 1, 2, 3].map((i) => relay.sendAlert({ subscription: sub.id, text: `sentinel-warmup-${i}` })));
    for (const id of warmup) expect((await relay.waitForAlert(id)).status).toBe('delivered');

    const post = async (i: number): Promise<Sent> => {
      const text = textOf(i);
      const sentAt = Date.now();
      try {
        const res = await fetch(`${relay.url}/api/v1/alerts`, {
          method: 'POST',
          headers: { authorization: `Bearer ${relay.intakeKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ subscription: sub.id, text }),
          signal: AbortSignal.timeout(10_000),
        });
        const raw = await res.text();
        let body: unknown = raw;
        try {
          body = JSON.parse(raw);
        } catch {
          /* keep the text */
        }
        return { i, text, sentAt, answeredAt: Date.now(), status: res.status, body, retryAfter: res.headers.get('retry-after') };
      } catch (error) {
        return { i, text, sentAt, answeredAt: Date.now(), status: 0, body: null, retryAfter: null, error: (error as Error).message };
      }
    };

    // The stream: one alert every 20 ms, each sent without waiting for the others' answers.
    let killedAt = 0;
    let failover: Promise<{ ms: number; doneAt: number }> | null = null;
    const requests: Promise<Sent>[] = [];
    const streamStart = Date.now();
    for (let i = 0; i < TOTAL; i++) {
      await sleep(streamStart + i * EVERY_MS - Date.now());
      if (i === KILL_AT) {
        killedAt = Date.now();
        failover = (async () => {
          await sentinel.killMaster();
          const result = await sentinel.waitForFailover(20_000);
          return { ms: result.ms, doneAt: Date.now() };
        })();
      }
      requests.push(post(i));
    }
    const sent = await Promise.all(requests);
    const streamEnd = Date.now();
    const { ms: failoverMs, doneAt: failoverDoneAt } = await failover!;

    const accepted = sent.filter((s) => s.status === 202);
    const refused = sent.filter((s) => s.status === 503);
    const other = sent.filter((s) => s.status !== 202 && s.status !== 503);
    const slowest = Math.max(...sent.map((s) => s.answeredAt - s.sentAt));
    const firstRefused = refused[0];
    const lastRefused = refused[refused.length - 1];
    const firstAcceptedAfterKill = accepted.find((s) => s.sentAt > (lastRefused?.sentAt ?? killedAt));
    const summary = {
      failoverMs,
      accepted: accepted.length,
      refused: refused.length,
      other: other.map((s) => ({ i: s.i, status: s.status, body: s.body, error: s.error })),
      slowestAnswerMs: slowest,
      window503: firstRefused
        ? { fromMsAfterKill: firstRefused.answeredAt - killedAt, toMsAfterKill: lastRefused!.answeredAt - killedAt, lastSentMsAfterFailover: lastRefused!.sentAt - failoverDoneAt }
        : null,
      acceptedInsideWindow: firstRefused ? accepted.filter((s) => s.sentAt > firstRefused.sentAt && s.sentAt < lastRefused!.sentAt).length : 0,
      firstAcceptedAfterOutageMsAfterKill: firstAcceptedAfterKill ? firstAcceptedAfterKill.sentAt - killedAt : null,
      streamMs: streamEnd - streamStart,
    };
    const context = () => `${JSON.stringify(summary)}\n${relay.dump()}`;

    // Every answer is 202 or 503 unavailable, and comes within a second: no 500, no hang.
    expect(other, context()).toEqual([]);
    for (const s of sent) expect(s.answeredAt - s.sentAt, `alert ${s.i} (${s.status}) answered in ${s.answeredAt - s.sentAt} ms\n${context()}`).toBeLessThan(ANSWER_WITHIN_MS);
    for (const s of refused) {
      expect(s.body, context()).toMatchObject({ error: 'unavailable', message: expect.any(String) });
      expect(s.retryAfter).not.toBeNull();
    }
    // The failover happened and took the relay down for a while (else this tested nothing).
    expect(refused.length, context()).toBeGreaterThan(0);
    // 503 only during the failover: answered after the kill, sent no later than shortly after it.
    for (const s of refused) {
      expect(s.answeredAt, context()).toBeGreaterThanOrEqual(killedAt);
      expect(s.sentAt, context()).toBeLessThanOrEqual(failoverDoneAt + RECOVERY_GRACE_MS);
    }
    // 202 before the kill, and 202 again for everything sent once the relay has recovered.
    for (const s of sent.filter((x) => x.answeredAt < killedAt)) expect(s.status, context()).toBe(202);
    const afterRecovery = sent.filter((s) => s.sentAt > failoverDoneAt + RECOVERY_GRACE_MS);
    expect(afterRecovery.length, `the stream must outlast the failover\n${context()}`).toBeGreaterThanOrEqual(20);
    expect(afterRecovery.filter((s) => s.status !== 202), context()).toEqual([]);
    for (const s of accepted) expect(s.body, context()).toMatchObject({ id: expect.stringMatching(/^alr_/), status: 'queued' });

    // Every accepted alert is delivered: wait until each has a DM.
    await waitUntil(
      () => {
        const counts = delivered();
        return accepted.every((s) => (counts.get(s.text) ?? 0) >= 1);
      },
      {
        timeoutMs: 25_000,
        intervalMs: 100,
        describe: () => {
          const counts = delivered();
          const missing = accepted.filter((s) => !counts.has(s.text)).map((s) => s.i);
          return `missing ${missing.length}: ${JSON.stringify(missing)}\n${context()}`;
        },
      },
    );
    const allDeliveredAt = Date.now();
    // …and exactly once: longer than a lock (WORKER_LOCK_MS 1 s) and a few stalled checks, for late doubles.
    await sleep(2500);
    const counts = delivered();
    const doubled = accepted.filter((s) => counts.get(s.text)! > 1).map((s) => ({ i: s.i, times: counts.get(s.text) }));
    expect(doubled, context()).toEqual([]);
    // A refused alert was not taken: it must not reach the member (the client will send it again).
    const refusedButDelivered = refused.filter((s) => counts.has(s.text)).map((s) => s.i);
    expect(refusedButDelivered, context()).toEqual([]);
    expect(relay.sandbox.messages({ user: 'U0ALICE' }).filter((m) => m.text.includes('sentinel-stream-'))).toHaveLength(accepted.length);

    // The records agree: one per accepted alert, all delivered, none for a refused one.
    const records = (await relay.api('GET', `/api/v1/alerts?subscription=${sub.id}&limit=1000`)).body.alerts as any[];
    const streamRecords = records.filter((r) => !warmup.includes(r.id));
    expect(streamRecords.map((r) => r.id).sort()).toEqual(accepted.map((s) => s.body.id).sort());
    expect(streamRecords.filter((r) => r.status !== 'delivered').map((r) => ({ id: r.id, status: r.status, error: r.error })), context()).toEqual([]);

    // The same processes, never restarted, delivered the alerts sent after the failover.
    expect(relay.workers.map((w) => w.pid)).toEqual(workerPids);
    expect(workers.every((w) => w.alive()), context()).toBe(true);
    expect(relay.web!.pid).toBe(webPid);
    expect(relay.web!.alive()).toBe(true);
    const afterFailover = new Set(accepted.filter((s) => s.sentAt > failoverDoneAt).map((s) => s.text));
    const deliveredAfterFailover = relay.sandbox.messages({ user: 'U0ALICE' }).filter((m) => afterFailover.has(m.text.replace(/^\[Info\] /, '')));
    expect(deliveredAfterFailover.length).toBe(afterFailover.size);
    expect(deliveredAfterFailover.every((m) => m.at > failoverDoneAt)).toBe(true);

    // Both workers consume again (a worker can be alive yet stuck on a dead connection): four posts
    // that Slack holds 1.5 s each all start together only if each worker (two at a time) took two.
    const port = Number(new URL(relay.sandbox.url).port);
    relay.sandbox.inject({ kind: 'delay', ms: 1500, method: 'chat.postMessage', times: 4 });
    const postsBefore = relay.sandbox.callsTo('chat.postMessage').length;
    const probeStarted = Date.now();
    const probe = await Promise.all([0, 1, 2, 3].map((i) => relay.sendAlert({ subscription: sub.id, text: `sentinel-probe-${i}` })));
    await waitUntil(() => relay.sandbox.callsTo('chat.postMessage').slice(postsBefore).filter((c) => c.status === 0).length === 4, {
      timeoutMs: 2500,
      describe: () => `only ${relay.sandbox.callsTo('chat.postMessage').slice(postsBefore).filter((c) => c.status === 0).length} of 4 posts in flight at once: a worker is not consuming\n${context()}`,
    });
    const holding = workers.map((w) => w.connectedTo(port));
    for (const id of probe) expect((await relay.waitForAlert(id, ['delivered', 'failed'], 10_000)).status).toBe('delivered');
    const probeMs = Date.now() - probeStarted;
    expect(holding, 'each worker holds a post to Slack').toEqual([true, true]);
    expect(probeMs).toBeLessThan(2900);

    const sweeps = workers.flatMap((w) => w.logs().filter((l) => l.msg === 're-enqueued alerts whose jobs were lost'));
    const workerErrors = workers.flatMap((w) => w.logs().filter((l) => (l.level ?? 0) >= 50).map((l) => `${w.name}: ${l.msg} ${String(l.err ?? '')}`));
    console.log(
      `sentinel: failover ${failoverMs} ms (kill → replica promoted); 503 window ${summary.window503?.fromMsAfterKill}–${summary.window503?.toMsAfterKill} ms after the kill ` +
        `(${refused.length} refused, ${summary.acceptedInsideWindow} accepted inside it, last one sent ${summary.window503?.lastSentMsAfterFailover} ms after the failover); ` +
        `${accepted.length} accepted, all delivered once by ${allDeliveredAt - streamStart} ms into the stream; slowest answer ${slowest} ms; ` +
        `sweep re-enqueued ${sweeps.reduce((n, l) => n + Number(l.count ?? 0), 0)} jobs; worker error lines: ${workerErrors.length}; ` +
        `probe of 4 × 1.5 s posts ${probeMs} ms`,
    );
    if (process.env.REDIS_TEST_DUMP) console.log(relay.dump());
  }, 60_000);
});
