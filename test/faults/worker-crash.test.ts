import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackSandbox } from '../../src/sandbox/index.js';
import { removeRedisDir, startRedisServer, type TestRedis } from '../helpers/redis-server.js';
import { startRelayProcesses, waitUntil, type RelayChild, type RelayProcesses } from '../helpers/relay-processes.js';

/**
 * A worker process that dies (SIGKILL) in the middle of a delivery loses nothing: its job's lock
 * (WORKER_LOCK_MS) runs out, another worker's stalled check (STALLED_INTERVAL_MS) puts the job back,
 * and that worker delivers it. The member gets exactly one DM either way: when the killed worker's
 * post never reached Slack (the sandbox drops a delayed call whose client hung up), the next worker
 * posts it; when Slack carried it out but the answer never came back, the next worker finds it in
 * the DM by its metadata (conversations.history) and records it instead of posting again.
 */
let redis: TestRedis;
let relay: RelayProcesses;

beforeAll(async () => {
  redis = await startRedisServer();
  relay = await startRelayProcesses({
    redisUrl: redis.url,
    env: { WORKER_LOCK_MS: '1000', STALLED_INTERVAL_MS: '500', SLACK_TIMEOUT_MS: '4000' },
  });
  await relay.startWeb();
});
afterAll(async () => {
  await relay?.close();
  if (redis) await removeRedisDir(redis);
});

describe('a worker process killed mid-delivery', () => {
  it('is taken over by another worker after the stalled check; the alert is delivered once', async () => {
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    const first = await relay.startWorker();
    // The first post hangs far longer than the lock: only a live worker could keep that lock.
    relay.sandbox.inject({ kind: 'delay', ms: 3000, method: 'chat.postMessage', times: 1 });

    const id = await relay.sendAlert({ subscription: sub.id, text: `crash-takeover ${Date.now()}` });
    await waitUntil(() => relay.sandbox.callsTo('chat.postMessage').length === 1, {
      timeoutMs: 10_000,
      describe: () => relay.dump(),
    });
    // The delivery is in flight in the first worker.
    expect((await relay.api('GET', `/api/v1/alerts/${id}`)).body.status).toBe('delivering');

    const killedAt = Date.now();
    const exit = await first.kill();
    expect(exit.signal).toBe('SIGKILL');
    // The hung-up call was abandoned: Slack never executed it.
    await waitUntil(() => relay.sandbox.callsTo('chat.postMessage')[0]!.status === 499, { timeoutMs: 2000 });

    const second = await relay.startWorker();
    const record = await relay.waitForAlert(id, ['delivered', 'failed'], 15_000);
    const tookOverAfterMs = Date.now() - killedAt;

    expect(record, relay.dump()).toMatchObject({ status: 'delivered', tokenSource: 'bot_token', error: null });
    const posts = relay.sandbox.callsTo('chat.postMessage');
    expect(posts.map((c) => c.status)).toEqual([499, 200]);
    // the second post came after the crash, from the second worker
    expect(posts[1]!.at).toBeGreaterThanOrEqual(killedAt);
    expect(second.alive()).toBe(true);

    const messages = relay.sandbox.messages({ user: 'U0ALICE' }).filter((m) => m.text.includes('crash-takeover'));
    expect(messages).toHaveLength(1);
    expect(record.slack).toEqual({ channel: messages[0]!.channel, ts: messages[0]!.ts });
    // A takeover needs the lock to expire and a stalled check or two: seconds, not WORKER_LOCK_MS defaults.
    expect(tookOverAfterMs).toBeLessThan(10_000);
    console.log(`worker-crash: takeover and delivery ${tookOverAfterMs} ms after SIGKILL; attempts=${record.attempts}`);
  });

  it('with two workers running, the one that survives takes over from the one killed', async () => {
    // A Slack of its own, so that only the worker holding this job has connections to it.
    const slack = createSlackSandbox();
    await slack.listen(relay.spareApiPort);
    try {
      const port = Number(new URL(slack.url).port);
      const sub = await relay.createSubscription({ apiUrl: slack.apiUrl, recipient: 'U0ALICE' });
      const running = relay.workers.filter((w) => w.alive());
      while (running.length < 2) running.push(await relay.startWorker());
      expect(running).toHaveLength(2);
      slack.inject({ kind: 'delay', ms: 3000, method: 'chat.postMessage', times: 1 });

      const id = await relay.sendAlert({ subscription: sub.id, text: `two-workers ${Date.now()}` });
      await waitUntil(() => slack.callsTo('chat.postMessage').length === 1, { timeoutMs: 10_000, describe: () => relay.dump() });
      const holders = running.filter((w) => w.connectedTo(port));
      expect(holders.map((w) => w.name), 'exactly one worker talks to this Slack').toHaveLength(1);
      const [holder] = holders as [RelayChild];
      const survivor = running.find((w) => w !== holder)!;

      const killedAt = Date.now();
      expect((await holder.kill()).signal).toBe('SIGKILL');
      const record = await relay.waitForAlert(id, ['delivered', 'failed'], 15_000);
      const tookOverAfterMs = Date.now() - killedAt;

      expect(record, relay.dump()).toMatchObject({ status: 'delivered', error: null });
      expect(slack.callsTo('chat.postMessage').map((c) => c.status)).toEqual([499, 200]);
      expect(slack.messages()).toHaveLength(1);
      expect(record.slack.ts).toBe(slack.messages()[0]!.ts);
      // the holder is dead and no other worker runs: the survivor delivered it
      expect(survivor.alive()).toBe(true);
      expect(relay.workers.filter((w) => w.alive())).toEqual([survivor]);
      expect(tookOverAfterMs).toBeLessThan(10_000);
      console.log(`worker-crash: the running worker took over ${tookOverAfterMs} ms after SIGKILL`);
    } finally {
      await slack.close();
    }
  });

  it('after Slack carried out the killed worker\'s post (its answer never came back), the next worker finds it in the DM and posts nothing', async () => {
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    const running = relay.workers.filter((w) => w.alive());
    while (running.length < 1) running.push(await relay.startWorker());
    // Slack stores the message at once; its answer would come after the worker is gone.
    relay.sandbox.inject({ kind: 'late_answer', ms: 3000, method: 'chat.postMessage', times: 1 });
    const marker = `carried-out ${Date.now()}`;
    const posted = relay.sandbox.callsTo('chat.postMessage').length;

    const id = await relay.sendAlert({ subscription: sub.id, text: marker });
    await waitUntil(() => relay.sandbox.messages({ user: 'U0ALICE' }).some((m) => m.text.includes(marker)), { timeoutMs: 10_000, describe: () => relay.dump() });
    expect((await relay.api('GET', `/api/v1/alerts/${id}`)).body.status).toBe('delivering');
    for (const worker of running) expect((await worker.kill()).signal).toBe('SIGKILL');

    await relay.startWorker();
    const record = await relay.waitForAlert(id, ['delivered', 'failed'], 20_000);
    expect(record, relay.dump()).toMatchObject({ status: 'delivered', error: null });
    const messages = relay.sandbox.messages({ user: 'U0ALICE' }).filter((m) => m.text.includes(marker));
    expect(messages, 'one DM: the takeover read the DM back instead of posting again').toHaveLength(1);
    expect(record.slack).toEqual({ channel: messages[0]!.channel, ts: messages[0]!.ts });
    expect(relay.sandbox.callsTo('chat.postMessage').slice(posted).map((c) => c.status)).toEqual([499]);
    const readBacks = relay.sandbox.callsTo('conversations.history').filter((c) => c.params.include_all_metadata !== undefined);
    expect(readBacks.length).toBeGreaterThan(0);
  });

  it('without im:history the takeover cannot read the DM back: it posts again (at least once) and says so in the log', async () => {
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    const running = relay.workers.filter((w) => w.alive());
    while (running.length < 1) running.push(await relay.startWorker());
    relay.sandbox.inject({ kind: 'late_answer', ms: 3000, method: 'chat.postMessage', times: 1 });
    relay.sandbox.inject({ kind: 'error', error: 'missing_scope', method: 'conversations.history', times: 1 });
    const marker = `no-history ${Date.now()}`;

    const id = await relay.sendAlert({ subscription: sub.id, text: marker });
    await waitUntil(() => relay.sandbox.messages({ user: 'U0ALICE' }).some((m) => m.text.includes(marker)), { timeoutMs: 10_000, describe: () => relay.dump() });
    for (const worker of running) expect((await worker.kill()).signal).toBe('SIGKILL');

    const next = await relay.startWorker();
    const record = await relay.waitForAlert(id, ['delivered', 'failed'], 20_000);
    expect(record, relay.dump()).toMatchObject({ status: 'delivered', error: null });
    expect(relay.sandbox.messages({ user: 'U0ALICE' }).filter((m) => m.text.includes(marker))).toHaveLength(2);
    expect(next.logs().some((l) => l.alertId === id && String(l.msg).includes('needs im:history'))).toBe(true);
  });
});
