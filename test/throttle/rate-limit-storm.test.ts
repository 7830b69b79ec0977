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

  it('conditions under the storm: thread replies and edits keep the pace, and each condition ends one resolved message, nothing twice', async () => {
    relay = await startTestRelay({ worker: false, sandbox: { channelPostLimit: { perSecond: 1 } } });
    await Promise.all([relay.spawnWorkerProcess(), relay.spawnWorkerProcess()]);
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    const keys = ['storm-a', 'storm-b'];
    // each key: fired, fired again, resolved, accepted in that order in one batch
    const alerts = ['firing', 'firing', 'resolved'].flatMap((status) => keys.map((key) => ({ subscription: sub.id, text: `${key} ${status}`, dedupKey: key, status })));
    const res = await relay.api('POST', '/api/v1/alerts/batch', { alerts });
    expect(res.status).toBe(202);
    const records = await Promise.all(res.body.alerts.map((a: { id: string }) => relay.waitForAlert(a.id, ['delivered', 'failed', 'suppressed'], 40_000)));
    expect(records.map((r) => r.status)).toEqual(Array(6).fill('delivered'));

    const top = relay.sandbox.messages({ user: 'U0ALICE', topLevel: true });
    expect(top).toHaveLength(2);
    for (const message of top) {
      expect(JSON.stringify(message.blocks)).toContain(':white_check_mark: *Resolved*');
      // one reply for the repeat, one for the resolve
      expect(relay.sandbox.messages({ user: 'U0ALICE', threadTs: message.ts })).toHaveLength(2);
    }
    expect(relay.sandbox.callsTo('chat.postMessage').some((c) => c.status === 429) || relay.sandbox.callsTo('chat.update').some((c) => c.status === 429)).toBe(true);
  }, 60_000);
});
