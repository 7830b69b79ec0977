import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startTestRelay, type TestRelay } from '../helpers/test-relay.js';

/** Intake only (no worker), so queue contents can be inspected as the intake left them. */
let relay: TestRelay;
let sub: any;
let redis: Redis;
let ongoing: Queue;
let initial: Queue;

beforeAll(async () => {
  relay = await startTestRelay({ worker: false });
  sub = await relay.createSubscription({ recipient: 'U0ALICE' });
  redis = new Redis(relay.config.redisUrl);
  ongoing = new Queue('alerts-ongoing', { connection: redis, prefix: relay.config.queuePrefix });
  initial = new Queue('alerts-initial', { connection: redis, prefix: relay.config.queuePrefix });
});
afterAll(async () => {
  await ongoing.close();
  await initial.close();
  redis.disconnect();
  await relay.close();
});

const jobCount = async () => (await ongoing.getJobCounts('wait', 'delayed', 'prioritized')) as Record<string, number>;
const totalJobs = async () => {
  const [a, b] = await Promise.all([ongoing.count(), initial.count()]);
  return a + b;
};
const recordCount = async () => (await relay.api('GET', '/api/v1/alerts?limit=1000')).body.alerts.length;

describe('POST /api/v1/alerts', () => {
  it('accepts an alert: 202, a queued record and one job carrying ids and the message only', async () => {
    const res = await relay.api('POST', '/api/v1/alerts', {
      subscription: sub.name.toLowerCase(),
      text: 'CPU high',
      title: 'db-1',
      severity: 'warning',
      fields: { host: 'db-1' },
      link: 'https://example.com/x',
    });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: expect.stringMatching(/^alr_/), status: 'queued' });

    const job = await ongoing.getJob(res.body.id);
    expect(job?.name).toBe(`${sub.id} → U0ALICE`);
    expect(job?.data).toEqual({
      alertId: res.body.id,
      subscriptionId: sub.id,
      recipient: 'U0ALICE',
      message: { title: 'db-1', text: 'CPU high', severity: 'warning', fields: { host: 'db-1' }, link: 'https://example.com/x' },
    });
    const record = await relay.api('GET', `/api/v1/alerts/${res.body.id}`);
    expect(record.body).toEqual({
      id: res.body.id,
      subscriptionId: sub.id,
      transfer: 'ongoing',
      status: 'queued',
      attempts: 0,
      tokenSource: null,
      slack: null,
      dedupKey: null,
      event: 'firing',
      coalesced: false,
      error: null,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      deliveredAt: null,
    });
  });

  it('routes transfer=initial to alerts-initial', async () => {
    const res = await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'backlog', transfer: 'initial' });
    expect(res.status).toBe(202);
    expect(await initial.getJob(res.body.id)).toBeTruthy();
    expect(await ongoing.getJob(res.body.id)).toBeFalsy();
  });

  it('refuses bad input with docs/contract.md §5 codes and changes nothing', async () => {
    const before = { records: await recordCount(), jobs: await totalJobs() };
    const noRecipient = await relay.createSubscription({ recipient: null });
    const cases: [string, unknown, number, string, Record<string, string>?][] = [
      ['malformed JSON', '{"subscription": ', 400, 'invalid_request'],
      ['missing text', { subscription: sub.id }, 400, 'invalid_request'],
      ['blank text', { subscription: sub.id, text: '   ' }, 400, 'invalid_request'],
      ['oversized text', { subscription: sub.id, text: 'x'.repeat(4001) }, 400, 'invalid_request'],
      ['long title', { subscription: sub.id, text: 'x', title: 't'.repeat(151) }, 400, 'invalid_request'],
      ['bad severity', { subscription: sub.id, text: 'x', severity: 'fatal' }, 400, 'invalid_request'],
      ['11 fields', { subscription: sub.id, text: 'x', fields: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'])) }, 400, 'invalid_request'],
      ['bad link', { subscription: sub.id, text: 'x', link: 'javascript:alert(1)' }, 400, 'invalid_request'],
      ['unknown field', { subscription: sub.id, text: 'x', colour: 'red' }, 400, 'invalid_request'],
      ['not an object', '[1,2]', 400, 'invalid_request'],
      ['unknown subscription', { subscription: 'nope', text: 'x' }, 404, 'not_found'],
      ['no recipient anywhere', { subscription: noRecipient.id, text: 'x' }, 422, 'no_recipient'],
      ['2 MB body', { subscription: sub.id, text: 'x'.repeat(2 * 1024 * 1024) }, 413, 'payload_too_large'],
      ['missing key', { subscription: sub.id, text: 'x' }, 401, 'unauthorized', { authorization: '' }],
      ['wrong key', { subscription: sub.id, text: 'x' }, 401, 'unauthorized', { authorization: 'Bearer wrong' }],
      ['form body', 'subscription=x&text=y', 400, 'invalid_request', { 'content-type': 'application/x-www-form-urlencoded' }],
    ];
    for (const [label, body, status, code, headers] of cases) {
      const res = await relay.api('POST', '/api/v1/alerts', body, headers);
      expect(res.status, label).toBe(status);
      expect(res.body?.error, label).toBe(code);
      expect(typeof res.body?.message, label).toBe('string');
      expect(res.text, label).not.toMatch(/at .*\.(js|ts):\d+/);
    }
    expect(await recordCount()).toBe(before.records);
    expect(await totalJobs()).toBe(before.jobs);
  });

  it('answers a repeated Idempotency-Key with the first alert and enqueues nothing', async () => {
    const key = `deploy-${Date.now()}`;
    const first = await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'once' }, { 'idempotency-key': key });
    expect(first.status).toBe(202);
    const jobs = await jobCount();
    const again = await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'once' }, { 'idempotency-key': key });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ id: first.body.id, status: 'queued' });
    // the body field works the same way
    const viaBody = await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'once', idempotencyKey: key });
    expect(viaBody.body.id).toBe(first.body.id);
    expect(await jobCount()).toEqual(jobs);
  });

  it('sees an edit or a delete of the subscription at the very next alert', async () => {
    const other = await relay.createSubscription({ recipient: 'U0FIRST' });
    const send = () => relay.api('POST', '/api/v1/alerts', { subscription: other.name, text: 'who gets it?' });
    const first = await send();
    expect((await ongoing.getJob(first.body.id))?.data.recipient).toBe('U0FIRST');

    expect((await relay.api('PATCH', `/api/v1/subscriptions/${other.id}`, { recipient: 'U0SECOND' })).status).toBe(200);
    const second = await send();
    expect((await ongoing.getJob(second.body.id))?.data.recipient).toBe('U0SECOND');

    expect((await relay.api('DELETE', `/api/v1/subscriptions/${other.id}`)).status).toBe(204);
    expect((await send()).status).toBe(404);
  });

  it('answers with nosniff and a deny-all Content-Security-Policy', async () => {
    const res = await fetch(`${relay.web.url}/api/v1/alerts`, { headers: { authorization: `Bearer ${relay.apiKey}` } });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('scopes idempotency keys to the API key', async () => {
    const key = `scoped-${Date.now()}`;
    const otherKey = relay.config.apiKeys.intake[1]!;
    const a = await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'a', idempotencyKey: key });
    const b = await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'b', idempotencyKey: key }, { authorization: `Bearer ${otherKey}` });
    expect(b.status).toBe(202);
    expect(b.body.id).not.toBe(a.body.id);
  });
});

describe('POST /api/v1/alerts/batch', () => {
  it('accepts in request order, each item with its own idempotency key', async () => {
    const texts = ['one', 'two', 'three', 'four'];
    const res = await relay.api('POST', '/api/v1/alerts/batch', {
      alerts: texts.map((text, i) => ({ subscription: sub.id, text, idempotencyKey: `batch-${Date.now()}-${i}` })),
    });
    expect(res.status).toBe(202);
    expect(res.body.alerts).toHaveLength(4);
    for (const [i, item] of res.body.alerts.entries()) {
      const job = await ongoing.getJob(item.id);
      expect(job?.data.message.text).toBe(texts[i]);
      expect(item.status).toBe('queued');
    }
  });

  it('is all-or-nothing: one bad item refuses the whole batch, naming its index', async () => {
    const before = { records: await recordCount(), jobs: await totalJobs() };
    const bad = await relay.api('POST', '/api/v1/alerts/batch', {
      alerts: [{ subscription: sub.id, text: 'fine' }, { subscription: sub.id, text: '' }, { subscription: sub.id, text: 'fine' }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_request');
    expect(bad.body.message).toContain('alerts[1]');
    expect(bad.body.issues[0].path.slice(0, 2)).toEqual(['alerts', 1]);

    const unknown = await relay.api('POST', '/api/v1/alerts/batch', {
      alerts: [{ subscription: sub.id, text: 'fine' }, { subscription: 'missing', text: 'x' }],
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toContain('alerts[1]');

    for (const body of [{ alerts: [] }, { alerts: Array.from({ length: 1001 }, () => ({ subscription: sub.id, text: 'x' })) }, {}]) {
      expect((await relay.api('POST', '/api/v1/alerts/batch', body)).status).toBe(400);
    }
    expect(await recordCount()).toBe(before.records);
    expect(await totalJobs()).toBe(before.jobs);
  });

  it('takes a 2 MB batch (under 8 MB) and refuses one over 8 MB with 413', async () => {
    const big = Array.from({ length: 600 }, (_, i) => ({ subscription: sub.id, text: `${i} `.padEnd(3500, 'x') }));
    const ok = await relay.api('POST', '/api/v1/alerts/batch', { alerts: big });
    expect(ok.status).toBe(202);
    expect(ok.body.alerts).toHaveLength(600);
    // written in several multi-row statements: every record is there, its job with its own text
    for (const i of [0, 63, 64, 599]) {
      const { id } = ok.body.alerts[i];
      expect((await relay.api('GET', `/api/v1/alerts/${id}`)).body).toMatchObject({ id, status: 'queued' });
      expect((await ongoing.getJob(id))?.data.message.text.startsWith(`${i} x`)).toBe(true);
    }
    const huge = Array.from({ length: 1000 }, () => ({ subscription: sub.id, text: 'x'.repeat(4000), title: 't'.repeat(150), fields: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'v'.repeat(500)])) }));
    const tooBig = await relay.api('POST', '/api/v1/alerts/batch', { alerts: huge });
    expect(tooBig.status).toBe(413);
  });

  it('one key twice in a batch, or in concurrent requests, is one alert', async () => {
    const key = `twice-${Date.now()}`;
    const jobs = await totalJobs();
    const batch = await relay.api('POST', '/api/v1/alerts/batch', {
      alerts: [{ subscription: sub.id, text: 'a', idempotencyKey: key }, { subscription: sub.id, text: 'b' }, { subscription: sub.id, text: 'a', idempotencyKey: key }],
    });
    expect(batch.status).toBe(202);
    expect(batch.body.alerts[2].id).toBe(batch.body.alerts[0].id);
    expect(await totalJobs()).toBe(jobs + 2);

    // concurrent requests share one group commit
    const concurrentKey = `${key}-concurrent`;
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'c', idempotencyKey: concurrentKey })),
    );
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    expect(await totalJobs()).toBe(jobs + 3);
  });

  it('a header Idempotency-Key makes a retried batch a no-op', async () => {
    const key = `retry-${Date.now()}`;
    const body = { alerts: [{ subscription: sub.id, text: 'a' }, { subscription: sub.id, text: 'b' }] };
    const first = await relay.api('POST', '/api/v1/alerts/batch', body, { 'idempotency-key': key });
    const jobs = await totalJobs();
    const second = await relay.api('POST', '/api/v1/alerts/batch', body, { 'idempotency-key': key });
    expect(second.body.alerts.map((a: { id: string }) => a.id)).toEqual(first.body.alerts.map((a: { id: string }) => a.id));
    expect(await totalJobs()).toBe(jobs);
  });
});

describe('GET /api/v1/alerts', () => {
  it('lists newest first, filtered by subscription and status, limited', async () => {
    const other = await relay.createSubscription();
    const ids: string[] = [];
    for (const text of ['a', 'b', 'c']) {
      ids.push((await relay.api('POST', '/api/v1/alerts', { subscription: other.id, text })).body.id);
    }
    const res = await relay.api('GET', `/api/v1/alerts?subscription=${other.id}&status=queued&limit=2`);
    expect(res.body.alerts.map((a: { id: string }) => a.id)).toEqual([ids[2], ids[1]]);
    const byName = await relay.api('GET', `/api/v1/alerts?subscription=${encodeURIComponent(other.name)}`);
    expect(byName.body.alerts).toHaveLength(3);
    expect((await relay.api('GET', '/api/v1/alerts?limit=1001')).status).toBe(400);
    expect((await relay.api('GET', '/api/v1/alerts?status=lost')).status).toBe(400);
    expect((await relay.api('GET', '/api/v1/alerts/alr_nope')).status).toBe(404);
  });
});
