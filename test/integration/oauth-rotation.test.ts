import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { Browser, clickPadlock, formFields } from '../helpers/browser.js';
import { startTestRelay, type TestRelay } from '../helpers/test-relay.js';

/**
 * Token rotation (docs/contract.md §2): refresh before expiry and after `token_expired`, with two workers
 * running, losing and doubling nothing, and spending each single-use refresh token once.
 */
let relay: TestRelay;
afterEach(() => relay.close());

async function authorizedSubscription(): Promise<string> {
  const sub = await relay.createSubscription({ apiToken: '-', clientId: '-', recipient: 'U0ALICE' });
  const browser = new Browser({ user: 'admin', password: relay.config.adminPassword });
  const start = await clickPadlock(browser, relay.web.url, sub.id);
  const page = await browser.get(start.headers.get('location')!);
  const approved = await browser.postForm(`${relay.sandbox.url}/oauth/v2/authorize`, { ...formFields(await page.text()), decision: 'allow' });
  const callback = new URL(approved.headers.get('location')!);
  expect((await browser.get(`${relay.web.url}${callback.pathname}${callback.search}`)).status).toBe(200);
  expect((await relay.stores.installations.get(sub.id))?.refreshTokenSealed).toBeTruthy();
  return sub.id;
}

/** When the stored token expires, and when it was stored (its lifetime sets the refresh margin). */
async function setExpiry(subscriptionId: string, expiresAt: number, updatedAt: number) {
  const installation = (await relay.stores.installations.get(subscriptionId))!;
  await relay.stores.installations.updateTokens(subscriptionId, { ...installation, expiresAt, updatedAt });
}

const refreshCalls = () => relay.sandbox.callsTo('oauth.v2.access').filter((c) => c.params.grant_type === 'refresh_token');

async function sendMany(subscriptionId: string, count: number, tag: string) {
  const res = await relay.api('POST', '/api/v1/alerts/batch', {
    alerts: Array.from({ length: count }, (_, i) => ({ subscription: subscriptionId, text: `${tag} ${i}` })),
  });
  expect(res.status).toBe(202);
  return Promise.all(res.body.alerts.map((a: { id: string }) => relay.waitForAlert(a.id, ['delivered', 'failed'], 20_000)));
}

function expectEachPostedOnce(tag: string, count: number) {
  const texts = relay.sandbox.messages().map((m) => m.text).filter((t) => t.includes(`${tag} `));
  expect(texts).toHaveLength(count);
  expect(new Set(texts).size).toBe(count);
}

describe('OAuth token rotation with two workers', () => {
  it('refreshes once before expiry, and every alert is delivered once with the new token', async () => {
    relay = await startTestRelay({ oauth: { rotateTokens: true, tokenTtlSeconds: 3600 } });
    await relay.startWorker();
    const id = await authorizedSubscription();
    // An hour-long token with a second left: inside the refresh margin.
    await setExpiry(id, Date.now() + 1000, Date.now() - 3600_000);

    const records = await sendMany(id, 20, 'before-expiry');
    expect(records.map((r) => r.status)).toEqual(Array(20).fill('delivered'));
    expect(records.every((r) => r.tokenSource === 'oauth')).toBe(true);
    expect(refreshCalls()).toHaveLength(1);
    const refreshed = (refreshCalls()[0]!.response as { access_token: string }).access_token;
    expect(relay.sandbox.messages().filter((m) => m.text.startsWith('[Info] before-expiry')).every((m) => m.token === refreshed)).toBe(true);
    expect(relay.sandbox.calls.some((c) => (c.response as { error?: string }).error === 'token_expired')).toBe(false);
    expectEachPostedOnce('before-expiry', 20);
  });

  it('refreshes after Slack answers token_expired, spending each refresh token once', async () => {
    // Slack's tokens here live one second, while the relay is told they live an hour.
    relay = await startTestRelay({ oauth: { rotateTokens: true, tokenTtlSeconds: 1 } });
    await relay.startWorker();
    const id = await authorizedSubscription();
    await setExpiry(id, Date.now() + 3600_000, Date.now());
    await new Promise((r) => setTimeout(r, 1200));

    const records = await sendMany(id, 20, 'after-expiry');
    expect(records.map((r) => r.status)).toEqual(Array(20).fill('delivered'));
    expect(relay.sandbox.calls.some((c) => (c.response as { error?: string }).error === 'token_expired')).toBe(true);
    expect(refreshCalls().length).toBeGreaterThanOrEqual(1);
    // no refresh token was offered twice
    expect(refreshCalls().every((c) => (c.response as { ok: boolean }).ok)).toBe(true);
    const offered = refreshCalls().map((c) => c.params.refresh_token);
    expect(new Set(offered).size).toBe(offered.length);
    expectEachPostedOnce('after-expiry', 20);
    expect((await relay.api('GET', `/api/v1/subscriptions/${id}`)).body.authorization.status).toBe('OAuth Process Complete');
  });

  it('waits out another process holding the refresh lock: the delivery is delayed, never failed, and needs no re-authorization', { timeout: 40_000 }, async () => {
    relay = await startTestRelay({ oauth: { rotateTokens: true, tokenTtlSeconds: 3600 } });
    const id = await authorizedSubscription();
    await setExpiry(id, Date.now() + 1000, Date.now() - 3600_000);
    // another process "is refreshing": it holds the lock longer than a delivery ever waits for it
    const redis = new Redis(relay.config.redisUrl);
    const lock = `${relay.config.queuePrefix}:oauth-refresh:${id}`;
    await redis.set(lock, 'another-process', 'PX', 60_000);
    try {
      const sent = await relay.api('POST', '/api/v1/alerts', { subscription: id, text: 'behind the lock' });
      expect(sent.status).toBe(202);
      // well past the old 15 s lock deadline, after which the alert failed and the subscription
      // was marked for re-authorization
      const deadline = Date.now() + 17_000;
      while (Date.now() < deadline) {
        const record = (await relay.api('GET', `/api/v1/alerts/${sent.body.id}`)).body;
        expect(record.status, JSON.stringify(record)).not.toBe('failed');
        expect(record.status).not.toBe('delivered');
        await new Promise((r) => setTimeout(r, 500));
      }
      expect((await relay.api('GET', `/api/v1/subscriptions/${id}`)).body.authorization.status).toBe('OAuth Process Complete');
      expect(refreshCalls()).toHaveLength(0);
      // the other process gives up without refreshing: this relay refreshes, once, and delivers
      await redis.del(lock);
      const record = await relay.waitForAlert(sent.body.id, ['delivered', 'failed'], 10_000);
      expect(record).toMatchObject({ status: 'delivered', tokenSource: 'oauth', attempts: 1 });
      expect(refreshCalls()).toHaveLength(1);
      expect((await relay.api('GET', `/api/v1/subscriptions/${id}`)).body.authorization.status).toBe('OAuth Process Complete');
    } finally {
      redis.disconnect();
    }
  });
});
