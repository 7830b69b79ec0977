import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeRedisDir, startRedisServer, type TestRedis } from '../helpers/redis-server.js';
import { sleep, startRelayProcesses, waitUntil, type RelayProcesses } from '../helpers/relay-processes.js';

/**
 * One message per condition (docs/contract.md §6.4) through the faults the relay already survives
 * for plain alerts: a worker SIGKILLed while its post is in flight, Redis killed while resolves are
 * being carried out. In the end each condition is one DM, edited to resolved, with one reply per
 * repeat or resolve: nothing posted twice, nothing lost.
 */
let redis: TestRedis;
let relay: RelayProcesses;

beforeAll(async () => {
  redis = await startRedisServer({ appendonly: true });
  relay = await startRelayProcesses({
    redisUrl: redis.url,
    env: { WORKER_LOCK_MS: '1000', STALLED_INTERVAL_MS: '500', SLACK_TIMEOUT_MS: '3000' },
  });
  await relay.startWeb();
});
afterAll(async () => {
  await relay?.close();
  if (redis) await removeRedisDir(redis);
});

const RESOLVED = ':white_check_mark: *Resolved*';

/** The member's view of one condition: its top-level messages, and the replies under the first. */
function condition(user: string, marker: string) {
  const top = relay.sandbox.messages({ user, topLevel: true }).filter((m) => m.text.includes(marker));
  const replies = top[0] ? relay.sandbox.messages({ user, threadTs: top[0].ts }) : [];
  return { top, replies, resolved: top.length === 1 && JSON.stringify(top[0]!.blocks).includes(RESOLVED) };
}

describe('the lifecycle under faults', () => {
  it("a worker SIGKILLed after Slack carried out a condition's first post: the next worker finds it, and the resolve edits that one message", async () => {
    const user = 'U0ALICE';
    const sub = await relay.createSubscription({ recipient: user });
    const worker = await relay.startWorker();
    const marker = `crash-condition-${Date.now()}`;
    relay.sandbox.inject({ kind: 'late_answer', ms: 4000, method: 'chat.postMessage', times: 1 });
    const firing = await relay.sendAlert({ subscription: sub.id, text: `${marker} firing`, dedupKey: marker });
    await waitUntil(() => condition(user, marker).top.length === 1, { describe: () => relay.dump() });
    expect((await worker.kill()).signal).toBe('SIGKILL');
    const resolve = await relay.sendAlert({ subscription: sub.id, text: `${marker} resolved`, dedupKey: marker, status: 'resolved' });

    await relay.startWorker();
    const records = [await relay.waitForAlert(firing, ['delivered', 'failed'], 20_000), await relay.waitForAlert(resolve, ['delivered', 'failed', 'suppressed'], 20_000)];
    expect(records.map((r) => r.status), relay.dump()).toEqual(['delivered', 'delivered']);
    const seen = condition(user, marker);
    expect(seen.top).toHaveLength(1);
    expect(seen.resolved).toBe(true);
    expect(seen.replies).toHaveLength(1);
    expect(records[0]!.slack).toEqual({ channel: seen.top[0]!.channel, ts: seen.top[0]!.ts });
  });

  it('Redis killed while resolves are being carried out: after the restart every condition is one resolved message with one reply', async () => {
    const user = 'U0BOB';
    const sub = await relay.createSubscription({ recipient: user });
    while (relay.workers.filter((w) => w.alive()).length < 2) await relay.startWorker();
    const run = Date.now();
    const keys = [0, 1, 2].map((i) => `redis-condition-${run}-${i}`);
    const fired = await Promise.all(keys.map((key) => relay.sendAlert({ subscription: sub.id, text: `${key} firing`, dedupKey: key })));
    for (const id of fired) expect((await relay.waitForAlert(id, ['delivered', 'failed'], 10_000)).status).toBe('delivered');

    // the edits of two resolves hang at Slack while Redis goes away
    relay.sandbox.inject({ kind: 'delay', ms: 1500, method: 'chat.update', times: 2 });
    const updatesBefore = relay.sandbox.callsTo('chat.update').length;
    const resolves = [];
    for (const key of keys) resolves.push(await relay.sendAlert({ subscription: sub.id, text: `${key} resolved`, dedupKey: key, status: 'resolved' }));
    await waitUntil(() => relay.sandbox.callsTo('chat.update').slice(updatesBefore).some((c) => c.status === 0), { describe: () => relay.dump() });
    await redis.stop();
    await sleep(1500);
    await redis.restart();

    const records = await Promise.all(resolves.map((id) => relay.waitForAlert(id, ['delivered', 'failed', 'suppressed'], 30_000)));
    expect(records.map((r) => r.status), relay.dump()).toEqual(['delivered', 'delivered', 'delivered']);
    for (const key of keys) {
      const seen = condition(user, key);
      expect(seen.top, key).toHaveLength(1);
      expect(seen.resolved, key).toBe(true);
      expect(seen.replies, key).toHaveLength(1);
    }
  }, 60_000);
});
