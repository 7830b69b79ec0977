import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeRedisDir, startRedisServer, type TestRedis } from '../helpers/redis-server.js';
import { startRelayProcesses, waitUntil, type RelayProcesses } from '../helpers/relay-processes.js';
import { dbQuery, jsonColumn } from '../helpers/test-db.js';

/**
 * A manual sync whose test message fails outside delivery: the worker holding it is killed in the
 * middle of the post, again and again, until BullMQ gives the job up as stalled too often
 * (maxStalledCount). No processor returns an outcome for that failure, yet the record must end
 * `failed` and the sync with it (the record lifecycle's final-outcome hook), not stay `pending`
 * (or, before the lifecycle, `ok`).
 */
let redis: TestRedis;
let relay: RelayProcesses;

beforeAll(async () => {
  redis = await startRedisServer();
  relay = await startRelayProcesses({
    redisUrl: redis.url,
    // short locks and checks; the initial queue's limiter out of the way of the re-posts
    env: { WORKER_LOCK_MS: '1000', STALLED_INTERVAL_MS: '500', SLACK_TIMEOUT_MS: '2000', THROTTLE_INITIAL_LIMIT: '100' },
  });
  await relay.startWeb();
});
afterAll(async () => {
  await relay?.close();
  if (redis) await removeRedisDir(redis);
});

const lastSync = async (id: string) => (await relay.api('GET', `/api/v1/subscriptions/${id}`)).body.lastSync;
const storedSync = async (id: string) => {
  const [row] = await dbQuery<{ s: unknown }>(relay.env, 'select last_sync as s from subscriptions where id = $1', [id]);
  return jsonColumn<{ status: string }>(row?.s);
};

describe('a sync whose test message stalls past maxStalledCount', () => {
  it('ends lastSync failed, through the record lifecycle', { timeout: 90_000 }, async () => {
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    // every post hangs far longer than the lock: only a live worker could keep it
    relay.sandbox.inject({ kind: 'delay', ms: 1500, method: 'chat.postMessage', times: 10 });
    const sync = await relay.api('POST', `/api/v1/subscriptions/${sub.id}/sync`);
    expect(sync.status).toBe(202);
    expect(sync.body.lastSync).toMatchObject({ status: 'pending', alertId: sync.body.alertId });
    const alertId = sync.body.alertId as string;

    // kill the worker holding the post each time it starts one, until BullMQ fails the job
    let kills = 0;
    const deadline = Date.now() + 75_000;
    while (Date.now() < deadline) {
      const worker = await relay.startWorker();
      const posts = relay.sandbox.callsTo('chat.postMessage').length;
      const outcome = await waitUntil(
        async () => {
          const record = (await relay.api('GET', `/api/v1/alerts/${alertId}`)).body;
          if (record.status === 'failed' || record.status === 'delivered') return 'final';
          return relay.sandbox.callsTo('chat.postMessage').length > posts ? 'posting' : false;
        },
        { timeoutMs: 15_000, intervalMs: 20, describe: () => relay.dump() },
      );
      if (outcome === 'final') break;
      await worker.kill();
      kills += 1;
    }

    const record = (await relay.api('GET', `/api/v1/alerts/${alertId}`)).body;
    expect(record, relay.dump()).toMatchObject({ status: 'failed', error: { code: 'worker_error' } });
    expect(kills).toBeGreaterThanOrEqual(3);
    // no post ever completed: each was abandoned by a killed worker
    expect(relay.sandbox.messages({ user: 'U0ALICE' })).toHaveLength(0);
    await waitUntil(async () => (await lastSync(sub.id))?.status === 'failed', { timeoutMs: 5000 });
    expect(await lastSync(sub.id)).toMatchObject({ status: 'failed', alertId, error: { code: 'worker_error' } });
    // and it was written down by the hook, not only shown from the record
    await waitUntil(async () => (await storedSync(sub.id))?.status === 'failed', { timeoutMs: 5000 });
  });
});
