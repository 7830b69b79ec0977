import { afterEach, describe, expect, it } from 'vitest';
import { atWindowStart, maxInSlidingWindow, perFixedWindow } from '../helpers/post-timing.js';
import { startTestRelay, type TestRelay } from '../helpers/test-relay.js';

/**
 * docs/contract.md §4 limits with two real worker processes: a subscription's own budget (reserved at
 * intake) and the global BullMQ limiter as the ceiling over all subscriptions.
 */
let relay: TestRelay;
afterEach(() => relay.close());

async function sendBatch(subscription: string, count: number, tag: string): Promise<string[]> {
  const res = await relay.api('POST', '/api/v1/alerts/batch', {
    alerts: Array.from({ length: count }, (_, i) => ({ subscription, text: `${tag} ${i}` })),
  });
  expect(res.status).toBe(202);
  return res.body.alerts.map((a: { id: string }) => a.id);
}

/** The relay with two real worker processes (the Procfile's shape), so that limits hold across them. */
async function withTwoWorkerProcesses(env: Record<string, string>): Promise<TestRelay> {
  const started = await startTestRelay({ worker: false, env });
  try {
    await Promise.all([started.spawnWorkerProcess(), started.spawnWorkerProcess()]);
  } catch (error) {
    await started.close();
    throw error;
  }
  return started;
}

describe('throttling', () => {
  it('keeps a subscription to its own budget without delaying another subscription', async () => {
    relay = await withTwoWorkerProcesses({ THROTTLE_WINDOW_SECONDS: '2', THROTTLE_ONGOING_LIMIT: '100', THROTTLE_ONGOING_CONCURRENCY: '100' });
    const busy = await relay.createSubscription({ recipient: 'U0ALICE', throttle: { ongoing: { limit: 10, seconds: 2 } } });
    const quiet = await relay.createSubscription({ recipient: 'U0BOB' });
    // warm both worker processes up (first deliveries pay for JIT and connections)
    const warmUp = await sendBatch(quiet.id, 4, 'warm-up');
    await Promise.all(warmUp.map((id) => relay.waitForAlert(id)));

    await atWindowStart(2000);
    const started = Date.now();
    const ids = await sendBatch(busy.id, 40, 'busy');
    const sentQuiet = Date.now();
    const quietId = (await relay.api('POST', '/api/v1/alerts', { subscription: quiet.id, text: 'quiet one' })).body.id;
    const [quietMessage] = await relay.sandbox.waitForMessages(5, { user: 'U0BOB', timeoutMs: 3000 }).then((m) => m.slice(-1));
    expect(quietMessage!.at - sentQuiet).toBeLessThan(1000);
    expect((await relay.waitForAlert(quietId)).status).toBe('delivered');

    const records = await Promise.all(ids.map((id) => relay.waitForAlert(id, ['delivered', 'failed'], 20_000)));
    expect(records.every((r) => r.status === 'delivered')).toBe(true);
    const posts = relay.sandbox.messages({ user: 'U0ALICE' });
    expect(posts).toHaveLength(40);
    expect(maxInSlidingWindow(posts, 2000)).toBeLessThanOrEqual(20);
    const windows = perFixedWindow(posts, 2000);
    expect(Math.max(...windows.values())).toBeLessThanOrEqual(10);
    expect(windows.size).toBeGreaterThanOrEqual(4);
    // 40 at 10 per 2 s window: the last cannot start before the fourth window
    expect(Math.max(...posts.map((p) => p.at)) - started).toBeGreaterThanOrEqual(4000);
  });

  it('holds the global ceiling when it is below the subscriptions’ own limits', async () => {
    relay = await withTwoWorkerProcesses({ THROTTLE_WINDOW_SECONDS: '1', THROTTLE_ONGOING_LIMIT: '4', THROTTLE_ONGOING_CONCURRENCY: '100' });
    const a = await relay.createSubscription({ recipient: 'U0ALICE', throttle: { ongoing: { limit: 100, seconds: 1 } } });
    const b = await relay.createSubscription({ recipient: 'U0BOB', throttle: { ongoing: { limit: 100, seconds: 1 } } });
    const started = Date.now();
    const ids = [...(await sendBatch(a.id, 8, 'a')), ...(await sendBatch(b.id, 8, 'b'))];
    const records = await Promise.all(ids.map((id) => relay.waitForAlert(id, ['delivered', 'failed'], 20_000)));
    expect(records.every((r) => r.status === 'delivered')).toBe(true);
    const posts = relay.sandbox.messages();
    expect(posts).toHaveLength(16);
    // the ceiling's full bucket lets 4 through at once, then one every 250 ms: a sliding window
    // sees at most twice the limit (as it could with BullMQ's fixed windows)
    expect(maxInSlidingWindow(posts, 1000)).toBeLessThanOrEqual(8);
    // so the 16th starts no sooner than 12 × 250 ms after the first
    expect(Math.max(...posts.map((p) => p.at)) - started).toBeGreaterThanOrEqual(3000);
  });
});

describe('a fair share of the global ceiling', () => {
  it('delivers another subscription’s alerts within 2 s while one subscription’s backlog of 10,000 fills the ceiling', async () => {
    // 200 starts per 10 s: one subscription spends a fixed window at once, and a fixed window would
    // then hold everyone else for up to 10 s; first come, first served would hold them for minutes
    relay = await withTwoWorkerProcesses({ THROTTLE_WINDOW_SECONDS: '10', THROTTLE_ONGOING_LIMIT: '200', THROTTLE_ONGOING_CONCURRENCY: '100' });
    const open = { limit: 100_000, seconds: 1, concurrency: 10_000 };
    const a = await relay.createSubscription({ recipient: 'U0ALICE', throttle: { ongoing: open } });
    const b = await relay.createSubscription({ recipient: 'U0BOB', throttle: { ongoing: open } });
    for (let i = 0; i < 10; i++) await sendBatch(a.id, 1000, `backlog ${i}`);
    await relay.sandbox.waitForMessages(200, { user: 'U0ALICE', timeoutMs: 20_000 });

    const latencies: number[] = [];
    for (let i = 0; i < 50; i++) {
      const sent = Date.now();
      const res = await relay.api('POST', '/api/v1/alerts', { subscription: b.id, text: `b ${i}` });
      expect(res.status).toBe(202);
      const [message] = await relay.sandbox.waitForMessages(i + 1, { user: 'U0BOB', timeoutMs: 10_000 }).then((m) => m.slice(-1));
      latencies.push(message!.at - sent);
    }
    latencies.sort((x, y) => x - y);
    // p99 of 50 is the slowest
    expect(latencies.at(-1)).toBeLessThan(2000);
    // and the ceiling held all along: A had its burst and then the even pace, never more
    const aPosts = relay.sandbox.messages({ user: 'U0ALICE' });
    const bPosts = relay.sandbox.messages({ user: 'U0BOB' });
    expect(maxInSlidingWindow([...aPosts, ...bPosts], 10_000)).toBeLessThanOrEqual(400);
    expect(aPosts.length).toBeLessThan(10_000);
    console.log(`fairness: B's 50 alerts p50 ${latencies[24]} ms, max ${latencies.at(-1)} ms; A delivered ${aPosts.length} of 10,000 meanwhile`);
  });
});

describe('a subscription’s own concurrency', () => {
  it('keeps its deliveries in flight at or below its limit', async () => {
    relay = await startTestRelay({ env: { THROTTLE_ONGOING_CONCURRENCY: '50' } });
    const sub = await relay.createSubscription({ recipient: 'U0ALICE', throttle: { ongoing: { concurrency: 1 } } });
    relay.sandbox.inject({ kind: 'delay', ms: 300, method: 'chat.postMessage', times: 4 });
    const ids = await sendBatch(sub.id, 4, 'one-at-a-time');
    const records = await Promise.all(ids.map((id) => relay.waitForAlert(id, ['delivered', 'failed'], 15_000)));
    expect(records.every((r) => r.status === 'delivered' && r.attempts === 1)).toBe(true);
    const arrivals = relay.sandbox.callsTo('chat.postMessage').map((c) => c.at).sort((a, b) => a - b);
    expect(arrivals).toHaveLength(4);
    // each post starts only after the previous one (300 ms) has answered
    for (let i = 1; i < arrivals.length; i++) expect(arrivals[i]! - arrivals[i - 1]!).toBeGreaterThanOrEqual(290);
  });
});
