import { afterEach, describe, expect, it } from 'vitest';
import { alertsCarried } from '../helpers/post-timing.js';
import { sleep, startTestRelay, type TestRelay } from '../helpers/test-relay.js';

/**
 * Slack 429s (docs/contract.md §4): the stand-in enforces about one post per second per channel, answering 429
 * with Retry-After. The relay waits out each 429 for that channel only: every alert is delivered
 * exactly once (the ones that wait together in one message, §6.5), none fails, and another
 * subscription's member keeps getting alerts at once.
 */
let relay: TestRelay;
afterEach(() => relay.close());

describe('a 429 storm', () => {
  it('delivers every alert once, fails none, and keeps other channels flowing', async () => {
    relay = await startTestRelay({ worker: false, sandbox: { channelPostLimit: { perSecond: 1 } } });
    await Promise.all([relay.spawnWorkerProcess(), relay.spawnWorkerProcess()]);
    const stormy = await relay.createSubscription({ recipient: 'U0ALICE' });
    const calm = await relay.createSubscription({ recipient: 'U0BOB' });

    // warm both members' DMs up (a worker's first delivery pays for JIT and connections)
    for (const sub of [stormy, calm]) await relay.waitForAlert((await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'warm-up' })).body.id);
    // the storm comes within the second after the warm-up's post: Slack refuses it with a 429
    const res = await relay.api('POST', '/api/v1/alerts/batch', {
      alerts: Array.from({ length: 6 }, (_, i) => ({ subscription: stormy.id, text: `storm ${i}` })),
    });
    expect(res.status).toBe(202);
    await sleep(relay.sandbox.messages({ user: 'U0BOB' })[0]!.at + 1100 - Date.now());

    // Meanwhile, the other member gets an alert a little over a second after the last one (within
    // Slack's allowance for that channel), each delivered promptly.
    const latencies: number[] = [];
    for (let i = 0; i < 4; i++) {
      const sent = Date.now();
      await relay.api('POST', '/api/v1/alerts', { subscription: calm.id, text: `calm ${i}` });
      const [message] = await relay.sandbox.waitForMessages(i + 2, { user: 'U0BOB', timeoutMs: 3000 }).then((m) => m.slice(-1));
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
    const storm = relay.sandbox.messages({ user: 'U0ALICE' }).slice(1);
    expect(alertsCarried(storm).map((a) => a.alertId).sort()).toEqual(records.map((r) => r.id).sort());
    records.forEach((record, i) => {
      const message = storm.find((m) => m.ts === record.slack.ts)!;
      expect(JSON.stringify(message.blocks)).toContain(`storm ${i}`);
      expect(record.coalesced).toBe(alertsCarried([message]).length > 1);
    });
    expect(relay.sandbox.callsTo('chat.postMessage').some((c) => c.status === 429)).toBe(true);
    // the ones that waited out the 429 together went out together (§6.5)
    expect(storm.length).toBeLessThan(6);
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

    // the two conditions' first firings may share a message (a storm, §6.5): each line ends resolved
    const top = relay.sandbox.messages({ user: 'U0ALICE', topLevel: true });
    expect(alertsCarried(top).map((a) => a.alertId).sort()).toEqual([records[0].id, records[1].id].sort());
    expect(JSON.stringify(top.map((m) => m.blocks)).match(/:white_check_mark:/g)).toHaveLength(keys.length);
    const replies = top.flatMap((message) => relay.sandbox.messages({ user: 'U0ALICE', threadTs: message.ts }));
    // one reply for each repeat, one for each resolve
    expect(replies).toHaveLength(4);
    expect(relay.sandbox.callsTo('chat.postMessage').some((c) => c.status === 429) || relay.sandbox.callsTo('chat.update').some((c) => c.status === 429)).toBe(true);
  }, 60_000);
});
