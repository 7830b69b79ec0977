import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeRedisDir, startRedisServer, type TestRedis } from '../helpers/redis-server.js';
import { sleep, startRelayProcesses, waitUntil, type RelayProcesses } from '../helpers/relay-processes.js';

/**
 * A Redis outage longer than WORKER_LOCK_MS while a slow post is in flight: the worker holding the
 * job loses its lock, and another worker's stalled check takes the job over. The takeover must
 * not post again while the first post may still be in flight: exactly one DM.
 */
let redis: TestRedis;
let relay: RelayProcesses;

beforeAll(async () => {
  redis = await startRedisServer({ appendonly: true });
  relay = await startRelayProcesses({ redisUrl: redis.url, env: { WORKER_CONCURRENCY: '1', SLACK_TIMEOUT_MS: '8000' } });
  await relay.startWeb();
  await relay.startWorker();
  await relay.startWorker();
});
afterAll(async () => {
  await relay?.close();
  await removeRedisDir(redis);
});

describe('a worker that loses its lock mid-post', () => {
  it('does not lead to a second post by the worker that takes over', async () => {
    const sub = await relay.createSubscription();
    await relay.waitForAlert(await relay.sendAlert({ subscription: sub.id, text: 'warm-up' }));
    relay.sandbox.inject({ kind: 'delay', ms: 5000, method: 'chat.postMessage', times: 1 });
    const id = await relay.sendAlert({ subscription: sub.id, text: 'slow-one' });
    await waitUntil(() => relay.sandbox.callsTo('chat.postMessage').some((c) => c.status === 0));

    await redis.stop();
    await sleep(1500); // longer than WORKER_LOCK_MS (1 s)
    await redis.restart();

    const record = await relay.waitForAlert(id, ['delivered', 'failed'], 20_000);
    expect(record.status).toBe('delivered');
    await sleep(8000 + 1500); // past every moment a second post could start
    expect(relay.sandbox.messages().filter((m) => m.text.includes('slow-one'))).toHaveLength(1);
  });
});
