import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, removeRedisDir, type TestRedis } from '../helpers/redis-server.js';
import { startTestRelay, type TestRelay } from '../helpers/test-relay.js';

/** If Redis refuses the job, the client gets 503 at once and no orphan record stays behind. */
let redis: TestRedis;
let relay: TestRelay;

beforeAll(async () => {
  redis = await startRedisServer();
  relay = await startTestRelay({ redisUrl: redis.url, worker: false });
});
afterAll(async () => {
  await relay.close();
  await removeRedisDir(redis);
});

describe('Redis down at intake', () => {
  it('answers 503 unavailable in under a second and keeps no record', async () => {
    const sub = await relay.createSubscription();
    await redis.stop();
    for (const [path, body] of [
      ['/api/v1/alerts', { subscription: sub.id, text: 'lost?' }],
      ['/api/v1/alerts/batch', { alerts: [{ subscription: sub.id, text: 'a' }, { subscription: sub.id, text: 'b' }] }],
    ] as const) {
      const started = Date.now();
      const res = await relay.api('POST', path, body);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('unavailable');
    }
    const ready = await fetch(`${relay.web.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await relay.api('GET', '/api/v1/alerts')).body.alerts).toEqual([]);

    await redis.restart();
    // the web process reconnects by itself
    let status = 0;
    for (let i = 0; i < 50 && status !== 202; i++) {
      status = (await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'back' })).status;
      if (status !== 202) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(202);
    expect((await relay.api('GET', '/api/v1/alerts')).body.alerts).toHaveLength(1);
  });
});
