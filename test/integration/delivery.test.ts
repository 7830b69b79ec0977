import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSlackSandbox, type SlackSandbox } from '../../src/sandbox/index.js';
import { BOT_TOKEN, sleep, startTestRelay, type TestRelay } from '../helpers/test-relay.js';

let relay: TestRelay;
beforeAll(async () => {
  relay = await startTestRelay();
});
afterAll(() => relay.close());

async function send(body: Record<string, unknown>, headers?: Record<string, string>) {
  const res = await relay.api('POST', '/api/v1/alerts', { text: 'Disk almost full', ...body }, headers);
  expect(res.status, res.text).toBe(202);
  return res.body.id as string;
}

describe('delivery by bot token', () => {
  it('delivers to a user id as a DM with Block Kit, sent with the bot token', async () => {
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    const id = await send({ subscription: sub.id, title: 'db-1', severity: 'error', fields: { host: 'db-1' } });
    const record = await relay.waitForAlert(id);
    expect(record).toMatchObject({ status: 'delivered', attempts: 1, tokenSource: 'bot_token', error: null });
    expect(record.deliveredAt).toEqual(expect.any(String));

    const [message] = relay.sandbox.messages({ user: 'U0ALICE' }).filter((m) => m.ts === record.slack.ts);
    expect(message).toBeDefined();
    expect(message!.token).toBe(BOT_TOKEN);
    expect(record.slack).toEqual({ channel: message!.channel, ts: message!.ts });
    expect(message!.text).toBe('[Error] db-1: Disk almost full');
    expect(JSON.stringify(message!.blocks)).toContain(':x: *Error*');
  });

  it('resolves an e-mail address with users.lookupByEmail, and caches it', async () => {
    const sub = await relay.createSubscription({ recipient: 'bob@example.com' });
    const lookupsBefore = relay.sandbox.callsTo('users.lookupByEmail').length;
    const first = await relay.waitForAlert(await send({ subscription: sub.id }));
    const second = await relay.waitForAlert(await send({ subscription: sub.id }));
    expect([first.status, second.status]).toEqual(['delivered', 'delivered']);
    expect(relay.sandbox.callsTo('users.lookupByEmail').length - lookupsBefore).toBe(1);
    expect(relay.sandbox.messages({ user: 'U0BOB' }).map((m) => m.ts)).toEqual(
      expect.arrayContaining([first.slack.ts, second.slack.ts]),
    );
  });

  it('resolves a real name through users.list, and an alert recipient overrides the subscription', async () => {
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    const record = await relay.waitForAlert(await send({ subscription: sub.id, recipient: 'Carol Cruz' }));
    expect(record.status).toBe('delivered');
    expect(relay.sandbox.messages({ user: 'W0CAROL' }).some((m) => m.ts === record.slack.ts)).toBe(true);
  });

  it('fails a member that does not exist after exactly one attempt, posting nothing', async () => {
    const sub = await relay.createSubscription({ recipient: 'nobody@example.com' });
    const posts = relay.sandbox.callsTo('chat.postMessage').length;
    const record = await relay.waitForAlert(await send({ subscription: sub.id }));
    expect(record).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'users_not_found' } });
    expect(relay.sandbox.callsTo('users.lookupByEmail').filter((c) => c.params.email === 'nobody@example.com')).toHaveLength(1);
    expect(relay.sandbox.callsTo('chat.postMessage').length).toBe(posts);
  });

  it('retries two 5xx answers and ends delivered with 3 attempts', async () => {
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    relay.sandbox.inject({ kind: 'http', status: 500, method: 'chat.postMessage', times: 1 });
    relay.sandbox.inject({ kind: 'http', status: 503, method: 'chat.postMessage', times: 1 });
    const record = await relay.waitForAlert(await send({ subscription: sub.id }));
    expect(record).toMatchObject({ status: 'delivered', attempts: 3, tokenSource: 'bot_token', error: null });
  });

  it('gives up on transient failures after DELIVERY_ATTEMPTS', async () => {
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    relay.sandbox.inject({ kind: 'error', error: 'internal_error', method: 'chat.postMessage', times: 4 });
    const record = await relay.waitForAlert(await send({ subscription: sub.id }));
    expect(record).toMatchObject({ status: 'failed', attempts: 4, error: { code: 'internal_error' } });
  });

  it('fails a permanent Slack error at once: a 200 {ok:false} is never a success', async () => {
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    relay.sandbox.inject({ kind: 'error', error: 'messages_tab_disabled', method: 'chat.postMessage', times: 1 });
    const record = await relay.waitForAlert(await send({ subscription: sub.id }));
    expect(record).toMatchObject({ status: 'failed', attempts: 1, slack: null, error: { code: 'messages_tab_disabled' } });
  });

  it('waits out a 429 without counting an attempt', async () => {
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    relay.sandbox.inject({ kind: 'ratelimit', retryAfter: 1, method: 'chat.postMessage', times: 1 });
    const started = Date.now();
    const record = await relay.waitForAlert(await send({ subscription: sub.id }));
    expect(record).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('fails not_authorized with a placeholder token and no OAuth token, calling Slack not at all', async () => {
    const sub = await relay.createSubscription({ apiToken: '-', clientId: '-' });
    const calls = relay.sandbox.calls.length;
    const record = await relay.waitForAlert(await send({ subscription: sub.id }));
    expect(record).toMatchObject({ status: 'failed', attempts: 0, tokenSource: null, error: { code: 'not_authorized' } });
    expect(relay.sandbox.calls.length).toBe(calls);
  });

  it('marks the subscription "Re-authorization required" on token_revoked; a new token clears it', async () => {
    const revoked = 'xoxb-3333333333-revokedrevokedrevoked';
    const sub = await relay.createSubscription({ apiToken: revoked });
    relay.sandbox.revokeToken(revoked);
    const record = await relay.waitForAlert(await send({ subscription: sub.id }));
    expect(record).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'token_revoked' } });
    const after = await relay.api('GET', `/api/v1/subscriptions/${sub.id}`);
    expect(after.body.authorization.status).toBe('Re-authorization required');
    const fixed = await relay.api('PATCH', `/api/v1/subscriptions/${sub.id}`, { apiToken: 'xoxb-4444444444-freshfreshfresh' });
    expect(fixed.body.authorization.status).toBe('Bot token');
  });

  it('a repeated Idempotency-Key gives one DM', async () => {
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    const key = `once-${Date.now()}`;
    const body = { subscription: sub.id, text: `unique ${key}` };
    const first = await relay.api('POST', '/api/v1/alerts', body, { 'idempotency-key': key });
    const second = await relay.api('POST', '/api/v1/alerts', body, { 'idempotency-key': key });
    expect([first.status, second.status]).toEqual([202, 200]);
    await relay.waitForAlert(first.body.id);
    await sleep(300);
    expect(relay.sandbox.messages().filter((m) => m.text.includes(key))).toHaveLength(1);
  });
});

describe('token precedence at delivery time', () => {
  let oauthSlack: SlackSandbox;
  beforeAll(async () => {
    // The relay's SLACK_API_URL is `relay.sandbox`; the subscription's apiUrl is another host.
    oauthSlack = relay.sandbox;
  });

  it('uses a stored OAuth token, sent only to SLACK_API_URL, even with a bot token set', async () => {
    const other = createSlackSandbox();
    await other.listen(relay.spareApiPort);
    try {
      const sub = await relay.createSubscription({ apiUrl: other.apiUrl, recipient: 'U0ALICE' });
      const oauthToken = 'xoxb-oauth-5555555555-oauthoauthoauth';
      const now = Date.now();
      await relay.stores.installations.save({
        subscriptionId: sub.id, teamId: 'T0SANDBOX', teamName: 'Sandbox', botUserId: null, scopes: null,
        accessTokenSealed: relay.web.services.vault.seal(oauthToken), refreshTokenSealed: null, expiresAt: null, createdAt: now, updatedAt: now,
      });
      const view = await relay.api('GET', `/api/v1/subscriptions/${sub.id}`);
      expect(view.body.authorization).toEqual({ method: 'oauth', status: 'OAuth Process Complete', team: { id: 'T0SANDBOX', name: 'Sandbox' } });

      const record = await relay.waitForAlert(await send({ subscription: sub.id }));
      expect(record).toMatchObject({ status: 'delivered', tokenSource: 'oauth' });
      expect(oauthSlack.messages().find((m) => m.ts === record.slack.ts)?.token).toBe(oauthToken);
      expect(other.calls).toHaveLength(0);

      // Forget the OAuth token: the bot token, at the subscription's apiUrl, applies again.
      expect((await relay.api('DELETE', `/api/v1/subscriptions/${sub.id}/authorization`)).status).toBe(204);
      const again = await relay.waitForAlert(await send({ subscription: sub.id }));
      expect(again).toMatchObject({ status: 'delivered', tokenSource: 'bot_token' });
      expect(other.messages()[0]?.token).toBe(BOT_TOKEN);
    } finally {
      await other.close();
    }
  });
});

describe('a deleted subscription', () => {
  it('keeps its records, and its pending deliveries fail subscription_deleted', async () => {
    const paused = await startTestRelay({ worker: false });
    try {
      const sub = await paused.createSubscription();
      const id = (await paused.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'pending' })).body.id;
      expect((await paused.api('DELETE', `/api/v1/subscriptions/${sub.id}`)).status).toBe(204);
      await paused.startWorker();
      const record = await paused.waitForAlert(id);
      expect(record).toMatchObject({ status: 'failed', subscriptionId: sub.id, error: { code: 'subscription_deleted' } });
      expect(paused.sandbox.calls).toHaveLength(0);
      const listed = await paused.api('GET', `/api/v1/alerts?subscription=${sub.id}`);
      expect(listed.body.alerts.map((a: { id: string }) => a.id)).toEqual([id]);
    } finally {
      await paused.close();
    }
  });
});
