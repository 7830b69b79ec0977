import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { sleep, startTestRelay, type TestRelay } from '../helpers/test-relay.js';

/** A record whose job vanished from Redis is re-enqueued by the sweep and delivered once. */
let relay: TestRelay;
afterEach(() => relay.close());

describe('the lost-job sweep', () => {
  it('re-adds a vanished job and doubles none', async () => {
    relay = await startTestRelay({ worker: false, env: { SWEEP_INTERVAL_MS: '200', SWEEP_MIN_AGE_MS: '300' } });
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    const lostId = (await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'vanished' })).body.id;
    const keptId = (await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'kept' })).body.id;

    // As if Redis lost its last second of writes: the job of one alert is gone.
    const redis = new Redis(relay.config.redisUrl);
    const queue = new Queue('alerts-ongoing', { connection: redis, prefix: relay.config.queuePrefix });
    expect(await queue.remove(lostId)).toBe(1);
    expect(await queue.getJob(lostId)).toBeUndefined();
    await sleep(400);

    const worker = await relay.startWorker();
    const [lost, kept] = await Promise.all([relay.waitForAlert(lostId), relay.waitForAlert(keptId)]);
    expect([lost.status, kept.status]).toEqual(['delivered', 'delivered']);
    await sleep(800); // several more sweeps
    const texts = relay.sandbox.messages().map((m) => m.text);
    expect(texts.filter((t) => t.includes('vanished'))).toHaveLength(1);
    expect(texts.filter((t) => t.includes('kept'))).toHaveLength(1);
    expect(await worker.sweeper.sweep()).toBe(0);
    await queue.close();
    redis.disconnect();
  });
});
