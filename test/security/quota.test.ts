import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ApiResponse } from '../helpers/api-client.js';
import { freePort } from '../helpers/redis-server.js';
import type { RelayChild, RelayProcesses } from '../helpers/relay-processes.js';
import { inspectRedis, type RedisInspector } from './helpers/redis-state.js';
import { apiAs, closeAll, pollUntil, recordCount, startFastRelay } from './helpers/relay.js';

/**
 * INTAKE_RATE_LIMIT (docs/contract.md §6.1) on real web processes and real Redis: each intake key
 * may submit 5 alerts a minute here (a batch counts its items); over it, 429 `rate_limited` with
 * an integer Retry-After, and nothing is written (no record, no job). The budget is per key, held
 * in Redis (so two web processes share it), and admin keys have none.
 */
const redisUrl = inject('redisUrl');
const LIMIT = 5;
const keys = Array.from({ length: 6 }, (_, i) => `quota${i}_${randomBytes(14).toString('hex')}`);
let relay: RelayProcesses;
let redis: RedisInspector;
let subscriptionId: string;

beforeAll(async () => {
  relay = await startFastRelay({ redisUrl, env: { INTAKE_RATE_LIMIT: String(LIMIT), API_KEYS: keys.join(',') } });
  await relay.startWeb();
  redis = inspectRedis(redisUrl, relay.queuePrefix);
  subscriptionId = (await relay.createSubscription({ recipient: 'U0ALICE' })).id;
});
afterAll(() => closeAll(() => relay?.close(), () => redis?.close()));

const alert = (text: string) => ({ subscription: subscriptionId, text });
const batchOf = (n: number, tag: string) => ({ alerts: Array.from({ length: n }, (_, i) => alert(`${tag} ${i}`)) });
const written = async () => ({ records: await recordCount(relay.api), jobs: await redis.jobTotal() });

function expectRateLimited(res: ApiResponse, what: string) {
  expect(res.status, `${what}: ${res.text}`).toBe(429);
  expect(res.body.error).toBe('rate_limited');
  const retryAfter = res.headers.get('retry-after');
  expect(retryAfter, `${what}: Retry-After`).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(retryAfter)).toBeLessThanOrEqual(60);
}

describe('INTAKE_RATE_LIMIT=5', () => {
  it('refuses the 6th single alert of a key with 429 rate_limited and Retry-After, and writes nothing for it', async () => {
    const api = apiAs(relay, keys[0]!);
    for (let i = 0; i < LIMIT; i++) expect((await api('POST', '/api/v1/alerts', alert(`single ${i}`))).status).toBe(202);
    const before = await written();
    const refused = await api('POST', '/api/v1/alerts', alert('single over'));
    expectRateLimited(refused, '6th single alert');
    const refusedBatch = await api('POST', '/api/v1/alerts/batch', batchOf(1, 'batch over'));
    expectRateLimited(refusedBatch, 'batch of 1 after the budget');
    expect(await written()).toEqual(before);
  });

  it('counts a batch by its items: 6 at once is refused, 3 + 3 refuses the second, which gives its points back', async () => {
    const api = apiAs(relay, keys[1]!);
    let before = await written();
    expectRateLimited(await api('POST', '/api/v1/alerts/batch', batchOf(LIMIT + 1, 'six')), 'a batch of 6');
    expect(await written(), 'the refused batch of 6 wrote nothing').toEqual(before);

    expect((await api('POST', '/api/v1/alerts/batch', batchOf(3, 'first three'))).status).toBe(202);
    before = await written();
    expectRateLimited(await api('POST', '/api/v1/alerts/batch', batchOf(3, 'second three')), 'a second batch of 3');
    expect(await written(), 'the refused batch of 3 wrote nothing').toEqual(before);
    // 3 used, 2 left: the refused batch did not spend them
    const two = await api('POST', '/api/v1/alerts/batch', batchOf(2, 'last two'));
    expect(two.status, two.text).toBe(202);
    expectRateLimited(await api('POST', '/api/v1/alerts', alert('one more')), 'a single alert after 5 in batches');
  });

  it('holds for concurrent requests, which intake takes together: of 8 at once, exactly 5 are accepted and 3 refused', async () => {
    const api = apiAs(relay, keys[5]!);
    const before = await written();
    const answers = await Promise.all(Array.from({ length: LIMIT + 3 }, (_, i) => api('POST', '/api/v1/alerts', alert(`together ${i}`))));
    expect(answers.map((res) => res.status).sort()).toEqual([...Array(LIMIT).fill(202), ...Array(3).fill(429)]);
    for (const res of answers.filter((r) => r.status === 429)) expectRateLimited(res, 'over the quota, together');
    const after = await written();
    expect(after.records - before.records).toBe(LIMIT);
    expect(after.jobs - before.jobs).toBe(LIMIT);
  });

  it('is per key: another intake key still sends its own 5 while the first is refused', async () => {
    const exhausted = apiAs(relay, keys[0]!);
    const fresh = apiAs(relay, keys[2]!);
    expectRateLimited(await exhausted('POST', '/api/v1/alerts', alert('still over')), 'the exhausted key');
    for (let i = 0; i < LIMIT; i++) expect((await fresh('POST', '/api/v1/alerts', alert(`other key ${i}`))).status).toBe(202);
    expectRateLimited(await fresh('POST', '/api/v1/alerts', alert('other key over')), 'the second key, 6th alert');
  });

  it('does not limit admin keys (observed: 3 × the limit, singles and a batch, all 202)', async () => {
    const before = await written();
    const statuses: number[] = [];
    for (let i = 0; i < 2 * LIMIT; i++) statuses.push((await relay.api('POST', '/api/v1/alerts', alert(`admin ${i}`))).status);
    statuses.push((await relay.api('POST', '/api/v1/alerts/batch', batchOf(LIMIT, 'admin batch'))).status);
    expect(statuses).toEqual(Array(2 * LIMIT + 1).fill(202));
    expect(await written()).toEqual({ records: before.records + 3 * LIMIT, jobs: before.jobs + 3 * LIMIT });
  });

  it('holds across two web processes on the same Redis (and the same database)', async () => {
    const first = relay.web as RelayChild;
    const port = await freePort();
    const secondUrl = `http://127.0.0.1:${port}`;
    const second = await relay.startWeb({ PORT: String(port), PUBLIC_URL: secondUrl });
    relay.web = first;
    await pollUntil(async () => (await fetch(`${secondUrl}/readyz`)).status === 200, 10_000, 'second web ready');
    expect(second.pid).not.toBe(first.pid);
    expect(first.alive() && second.alive()).toBe(true);

    const viaFirst = apiAs(relay, keys[3]!);
    const viaSecond = apiAs(relay, keys[3]!, secondUrl);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await viaFirst('POST', '/api/v1/alerts', alert(`web 1 #${i}`))).status);
    for (let i = 0; i < 2; i++) statuses.push((await viaSecond('POST', '/api/v1/alerts', alert(`web 2 #${i}`))).status);
    expect(statuses).toEqual([202, 202, 202, 202, 202]);
    const before = await written();
    expectRateLimited(await viaSecond('POST', '/api/v1/alerts', alert('web 2 over')), 'the 6th alert, on the second web');
    expectRateLimited(await viaFirst('POST', '/api/v1/alerts/batch', batchOf(1, 'web 1 over')), 'the 6th alert, on the first web');
    expect(await written()).toEqual(before);
  });
});
