import { afterEach, describe, expect, it } from 'vitest';
import { sleep, startTestRelay, type TestRelay } from '../helpers/test-relay.js';

/**
 * Slack 429s (docs/contract.md §4): the stand-in enforces about one post per second per channel, answering 429
 * with Retry-After. The relay waits out each 429 for that channel only: every alert is delivered
 * exactly once, none fails, and another subscription's member keeps getting alerts at once.
 */
let relay: TestRelay;
afterEach(() => relay.close());

describe('a 429 storm', () => {
  it('delivers every alert once, fails none, and keeps other channels flowing', async () => {
    relay = await startTestRelay({ worker: false, sandbox: { channelPostLimit: { perSecond: 1 } } });
    await Promise.all([relay.spawnWorkerProcess(), relay.spawnWorkerProcess()]);
    const stormy = await relay.createSubscription({ recipient: 'U0ALICE' });
    const calm = await relay.createSubscription({ recipient: 'U0BOB' });

    const res = await relay.api('POST', '/api/v1/alerts/batch', {
      alerts: Array.from({ length: 6 }, (_, i) => ({ subscription: stormy.id, text: `storm ${i}` })),
    });
    expect(res.status).toBe(202);

    // Meanwhile, the other member gets an alert a little over a second after the last one (within
    // Slack's allowance for that channel), each delivered promptly.
    const latencies: number[] = [];
    for (let i = 0; i < 4; i++) {
      const sent = Date.now();
      await relay.api('POST', '/api/v1/alerts', { subscription: calm.id, text: `calm ${i}` });
      const [message] = await relay.sandbox.waitForMessages(i + 1, { user: 'U0BOB', timeoutMs: 3000 }).then((m) => m.slice(-1));
      latencies.push(message!.at - sent);
      await sleep(message!.at + 1100 - Date.now());
    }
    expect(Math.max(...latencies)).toBeLessThan(500);

    const records = await Promise.all(
      res.body.alerts.map((a: { id: string }) => relay.waitForAlert(a.id, ['delivered', 'failed'], 20_000)),
    );
    expect(records.map((r) => r.status)).toEqual(Array(6).fill('delivered'));
    // waiting out a 429 is not an attempt
    expect(records.every((r) => r.attempts === 1)).toBe(true);
    const storm = relay.sandbox.messages({ user: 'U0ALICE' }).map((m) => m.text);
    expect(storm).toHaveLength(6);
    expect(new Set(storm).size).toBe(6);
    expect(relay.sandbox.callsTo('chat.postMessage').some((c) => c.status === 429)).toBe(true);
  });
});
