import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, clickPadlock, formFields } from '../helpers/browser.js';
import { BOT_TOKEN, startTestRelay, type TestRelay } from '../helpers/test-relay.js';

/** docs/contract.md §2: the padlock → Slack's authorize page → callback → "Authorization Complete", over HTTP. */
let relay: TestRelay;
const oauthTokens: string[] = [];
const pages: string[] = [];

beforeAll(async () => {
  relay = await startTestRelay({ oauth: true });
});
afterAll(() => relay.close());

const admin = () => new Browser({ user: 'admin', password: relay.config.adminPassword });

/** Click the padlock and follow the flow up to Slack's redirect back (not yet followed). */
async function authorize(browser: Browser, subscriptionId: string, decision: 'allow' | 'deny' = 'allow') {
  const start = await clickPadlock(browser, relay.web.url, subscriptionId);
  expect(start.status).toBe(302);
  expect(start.headers.getSetCookie().join()).toMatch(/HttpOnly.*SameSite=Lax/);
  const authorizeUrl = new URL(start.headers.get('location')!);
  expect(authorizeUrl.origin + authorizeUrl.pathname).toBe(`${relay.sandbox.url}/oauth/v2/authorize`);
  expect(authorizeUrl.searchParams.get('client_id')).toBe(relay.config.slack.oauth!.clientId);
  expect(authorizeUrl.searchParams.get('scope')).toBe('chat:write,im:write,im:history,users:read,users:read.email');
  expect(authorizeUrl.searchParams.get('redirect_uri')).toBe(`${relay.config.publicUrl}/oauth/callback`);
  expect(browser.cookies.get('slack-app-oauth-state')).toBe(authorizeUrl.searchParams.get('state'));

  const page = await browser.get(authorizeUrl.toString());
  expect(page.status).toBe(200);
  const approved = await browser.postForm(`${relay.sandbox.url}/oauth/v2/authorize`, { ...formFields(await page.text()), decision });
  expect(approved.status).toBe(302);
  return new URL(approved.headers.get('location')!);
}

async function followCallback(browser: Browser, callback: URL) {
  const res = await browser.get(`${relay.web.url}${callback.pathname}${callback.search}`);
  const text = await res.text();
  pages.push(text);
  return { status: res.status, text };
}

const installationCount = async () => (await relay.stores.installations.bySubscription()).size;

describe('OAuth 2.0 flow', () => {
  it('padlock → authorize → Authorization Complete → OAuth token preferred → DELETE → bot token again', async () => {
    const sub = await relay.createSubscription({ apiUrl: relay.sandbox.apiUrl, apiToken: BOT_TOKEN, recipient: 'U0ALICE' });
    const browser = admin();
    const callback = await authorize(browser, sub.id);
    const done = await followCallback(browser, callback);
    expect(done.status).toBe(200);
    expect(done.text).toContain('Authorization Complete');
    expect(done.text).toContain(`/subscriptions/${sub.id}`);
    expect(browser.cookies.has('slack-app-oauth-state')).toBe(false);

    const view = await relay.api('GET', `/api/v1/subscriptions/${sub.id}`);
    expect(view.body.authorization).toEqual({ method: 'oauth', status: 'OAuth Process Complete', team: { id: 'T0SANDBOX', name: 'Sandbox' } });
    const [exchange] = relay.sandbox.callsTo('oauth.v2.access').slice(-1);
    const oauthToken = (exchange!.response as { access_token: string }).access_token;
    oauthTokens.push(oauthToken);
    expect(oauthToken).not.toBe(BOT_TOKEN);

    const viaOAuth = await relay.waitForAlert((await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'oauth' })).body.id);
    expect(viaOAuth).toMatchObject({ status: 'delivered', tokenSource: 'oauth' });
    expect(relay.sandbox.messages().find((m) => m.ts === viaOAuth.slack.ts)?.token).toBe(oauthToken);

    expect((await relay.api('DELETE', `/api/v1/subscriptions/${sub.id}/authorization`)).status).toBe(204);
    expect((await relay.api('GET', `/api/v1/subscriptions/${sub.id}`)).body.authorization.status).toBe('Bot token');
    const viaBot = await relay.waitForAlert((await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'bot' })).body.id);
    expect(viaBot).toMatchObject({ status: 'delivered', tokenSource: 'bot_token' });
    expect(relay.sandbox.messages().find((m) => m.ts === viaBot.slack.ts)?.token).toBe(BOT_TOKEN);
  });

  it('a subscription with "-" placeholders delivers once OAuth is complete', async () => {
    const sub = await relay.createSubscription({ apiToken: '-', clientId: '-', recipient: 'bob@example.com' });
    expect(sub.authorization.status).toBe('Not authorized');
    const browser = admin();
    expect((await followCallback(browser, await authorize(browser, sub.id))).status).toBe(200);
    const record = await relay.waitForAlert((await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'hi' })).body.id);
    expect(record).toMatchObject({ status: 'delivered', tokenSource: 'oauth' });
  });

  it('a new authorisation clears "Re-authorization required"', async () => {
    const sub = await relay.createSubscription({ apiToken: '-', clientId: '-' });
    const browser = admin();
    await followCallback(browser, await authorize(browser, sub.id));
    const [exchange] = relay.sandbox.callsTo('oauth.v2.access').slice(-1);
    const token = (exchange!.response as { access_token: string }).access_token;
    oauthTokens.push(token);
    relay.sandbox.revokeToken(token);
    const failed = await relay.waitForAlert((await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'x' })).body.id);
    expect(failed).toMatchObject({ status: 'failed', tokenSource: 'oauth', error: { code: 'token_revoked' } });
    expect((await relay.api('GET', `/api/v1/subscriptions/${sub.id}`)).body.authorization.status).toBe('Re-authorization required');
    await followCallback(browser, await authorize(browser, sub.id));
    expect((await relay.api('GET', `/api/v1/subscriptions/${sub.id}`)).body.authorization.status).toBe('OAuth Process Complete');
  });
});

describe('OAuth refusals: a 4xx page, nothing stored, the existing authorisation untouched', () => {
  it('refuses a forged state', async () => {
    const sub = await relay.createSubscription();
    const browser = admin();
    const callback = await authorize(browser, sub.id);
    const before = (await installationCount());
    callback.searchParams.set('state', 'forged-state-value');
    browser.cookies.set('slack-app-oauth-state', 'forged-state-value');
    const res = await followCallback(browser, callback);
    expect(res.status).toBe(400);
    expect(res.text).toContain('Authorization link not valid');
    expect((await installationCount())).toBe(before);
  });

  it('refuses a callback without the state cookie (another browser)', async () => {
    const sub = await relay.createSubscription();
    const browser = admin();
    const callback = await authorize(browser, sub.id);
    const before = (await installationCount());
    const res = await followCallback(new Browser(), callback);
    expect(res.status).toBe(400);
    expect(res.text).toContain('another browser');
    expect((await installationCount())).toBe(before);
    // the state was not spent by the refused attempt: the real browser still completes
    expect((await followCallback(browser, callback)).status).toBe(200);
  });

  it('refuses a replayed callback and keeps the first authorisation', async () => {
    const sub = await relay.createSubscription();
    const browser = admin();
    const callback = await authorize(browser, sub.id);
    const cookie = browser.cookies.get('slack-app-oauth-state')!;
    expect((await followCallback(browser, callback)).status).toBe(200);
    const stored = (await relay.stores.installations.get(sub.id));
    browser.cookies.set('slack-app-oauth-state', cookie);
    const replay = await followCallback(browser, callback);
    expect(replay.status).toBe(400);
    expect(replay.text).toContain('already used');
    expect((await relay.stores.installations.get(sub.id))).toEqual(stored);
  });

  it('refuses an expired state', async () => {
    const sub = await relay.createSubscription();
    const browser = admin();
    const callback = await authorize(browser, sub.id);
    await relay.expireOAuthStates();
    const before = (await installationCount());
    const res = await followCallback(browser, callback);
    expect(res.status).toBe(400);
    expect(res.text).toContain('expired');
    expect((await installationCount())).toBe(before);
  });

  it('refuses access_denied', async () => {
    const sub = await relay.createSubscription();
    const browser = admin();
    const callback = await authorize(browser, sub.id, 'deny');
    expect(callback.searchParams.get('error')).toBe('access_denied');
    const before = (await installationCount());
    const res = await followCallback(browser, callback);
    expect(res.status).toBe(403);
    expect(res.text).toContain('Authorization cancelled');
    expect((await installationCount())).toBe(before);
    expect((await relay.stores.installations.get(sub.id))).toBeUndefined();
  });

  it('refuses a failed exchange (a code Slack does not know)', async () => {
    const sub = await relay.createSubscription();
    const browser = admin();
    const callback = await authorize(browser, sub.id);
    callback.searchParams.set('code', 'not-a-real-code');
    const res = await followCallback(browser, callback);
    expect(res.status).toBe(400);
    expect(res.text).toContain('invalid_code');
    expect((await relay.stores.installations.get(sub.id))).toBeUndefined();
  });

  it('the padlock needs the admin password, and a known subscription', async () => {
    const sub = await relay.createSubscription();
    expect((await new Browser().get(`${relay.web.url}/oauth/start?subscription=${sub.id}`)).status).toBe(401);
    expect((await admin().get(`${relay.web.url}/oauth/start?subscription=sub_nope`, { auth: true })).status).toBe(404);
  });

  it('explains that OAuth is not configured on a relay without its own Slack app', async () => {
    const plain = await startTestRelay({ worker: false });
    try {
      const sub = await plain.createSubscription();
      const browser = new Browser({ user: 'admin', password: plain.config.adminPassword });
      const res = await browser.get(`${plain.web.url}/oauth/start?subscription=${sub.id}`, { auth: true });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('SLACK_CLIENT_ID');
    } finally {
      await plain.close();
    }
  });
});

describe('OAuth tokens stay secret', () => {
  it('never appear in a page, an API response, a log line or Redis', async () => {
    expect(oauthTokens.length).toBeGreaterThan(0);
    const answers = [
      (await relay.api('GET', '/api/v1/subscriptions')).text,
      (await relay.api('GET', '/api/v1/alerts?limit=1000')).text,
      ...pages,
    ];
    const { readFileSync } = await import('node:fs');
    answers.push(readFileSync(relay.logFile, 'utf8'));
    const redis = new Redis(relay.config.redisUrl);
    try {
      for (const key of await redis.keys(`${relay.config.queuePrefix}:*`)) {
        const type = await redis.type(key);
        if (type === 'hash') answers.push(JSON.stringify(await redis.hgetall(key)));
        if (type === 'string') answers.push((await redis.get(key)) ?? '');
      }
    } finally {
      redis.disconnect();
    }
    for (const text of answers) for (const token of oauthTokens) expect(text.includes(token)).toBe(false);
  });
});
