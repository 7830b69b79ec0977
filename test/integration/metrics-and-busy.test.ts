import { holdWriteLock } from '../helpers/test-db.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOT_TOKEN, startTestRelay, type TestRelay } from '../helpers/test-relay.js';

let relay: TestRelay;
beforeAll(async () => {
  relay = await startTestRelay();
});
afterAll(() => relay.close());

describe('/metrics', () => {
  it('counts accepted, delivered and failed alerts by subscription and reason, queue depth, latency and 429s', async () => {
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    const bad = await relay.createSubscription({ recipient: 'ghost@example.com' });
    relay.sandbox.inject({ kind: 'ratelimit', retryAfter: 1, method: 'chat.postMessage', times: 1 });
    const ids = [
      (await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'a' })).body.id,
      (await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'b' })).body.id,
      (await relay.api('POST', '/api/v1/alerts', { subscription: bad.id, text: 'c' })).body.id,
    ];
    await Promise.all(ids.map((id) => relay.waitForAlert(id)));

    // A record is final a moment before BullMQ moves its job to completed/failed: poll briefly.
    let res!: Response;
    let text = '';
    for (let i = 0; i < 40 && !/state="completed"\} 2/.test(text); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 50));
      res = await fetch(`${relay.web.url}/metrics`, { headers: { authorization: `Bearer ${relay.apiKey}` } });
      text = await res.text();
    }
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(text).toContain(`relay_alerts_accepted_total{subscription="${sub.id}"} 2`);
    expect(text).toContain(`relay_alerts_delivered_total{subscription="${sub.id}"} 2`);
    expect(text).toContain(`relay_alerts_failed_total{subscription="${bad.id}",reason="users_not_found"} 1`);
    expect(text).toMatch(/relay_queue_jobs\{queue="alerts-ongoing",state="completed"\} 2/);
    expect(text).toMatch(/relay_queue_jobs\{queue="alerts-ongoing",state="failed"\} 1/);
    expect(text).toMatch(/relay_delivery_latency_seconds_count 2/);
    expect(text).toMatch(/relay_delivery_latency_seconds_bucket\{le="\+Inf"\} 2/);
    expect(text).toMatch(/relay_slack_rate_limited_total 1/);
    expect(text).not.toContain(sub.name);
    expect(text).not.toContain(BOT_TOKEN);
  });

  it('needs an API key or the admin password', async () => {
    expect((await fetch(`${relay.web.url}/metrics`)).status).toBe(401);
    const basic = Buffer.from(`admin:${relay.config.adminPassword}`).toString('base64');
    expect((await fetch(`${relay.web.url}/metrics`, { headers: { authorization: `Basic ${basic}` } })).status).toBe(200);
    expect((await fetch(`${relay.web.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
  });
});

describe('a busy database', () => {
  it('answers 503 unavailable within a second, not 500, and keeps nothing', async () => {
    const sub = await relay.createSubscription();
    const release = await holdWriteLock(relay.env);
    try {
      const started = Date.now();
      const res = await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'blocked' });
      expect(Date.now() - started).toBeLessThan(1000);
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('unavailable');
    } finally {
      await release();
    }
    const listed = await relay.api('GET', `/api/v1/alerts?subscription=${sub.id}`);
    expect(listed.body.alerts).toEqual([]);
  });
});
