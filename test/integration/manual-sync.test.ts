import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRelay, type TestRelay } from '../helpers/test-relay.js';

/** docs/contract.md §3 manual sync: auth.test, then a test DM as an `initial` alert, recorded as lastSync. */
let relay: TestRelay;
beforeAll(async () => {
  relay = await startTestRelay();
});
afterAll(() => relay.close());

const lastSync = async (id: string) => (await relay.api('GET', `/api/v1/subscriptions/${id}`)).body.lastSync;

describe('POST /api/v1/subscriptions/:id/sync', () => {
  it('checks the token and sends the test DM as an initial alert with its own record', async () => {
    const sub = await relay.createSubscription({ recipient: 'carol@example.com' });
    const res = await relay.api('POST', `/api/v1/subscriptions/${sub.id}/sync`);
    expect(res.status).toBe(202);
    expect(res.body.alertId).toMatch(/^alr_/);
    const record = await relay.waitForAlert(res.body.alertId);
    expect(record).toMatchObject({ status: 'delivered', transfer: 'initial', subscriptionId: sub.id });
    expect(relay.sandbox.messages({ user: 'W0CAROL' }).some((m) => m.text.includes('Test message from Slack Alert Relay'))).toBe(true);
    expect(await lastSync(sub.id)).toMatchObject({ status: 'ok', error: null, alertId: res.body.alertId });
    // auth.test's team is shown
    expect((await relay.api('GET', `/api/v1/subscriptions/${sub.id}`)).body.authorization.team).toEqual({ id: 'T0SANDBOX', name: 'Sandbox' });
  });

  it('runs only auth.test without a designated member', async () => {
    const sub = await relay.createSubscription({ recipient: null });
    const posts = relay.sandbox.callsTo('chat.postMessage').length;
    const res = await relay.api('POST', `/api/v1/subscriptions/${sub.id}/sync`);
    expect(res.body).toMatchObject({ alertId: null, lastSync: { status: 'ok', alertId: null } });
    expect(relay.sandbox.callsTo('chat.postMessage').length).toBe(posts);
  });

  it('records a refused token as failed and asks for re-authorization, sending nothing', async () => {
    const token = 'xoxb-5555555555-syncsyncsyncsync';
    const sub = await relay.createSubscription({ apiToken: token });
    relay.sandbox.revokeToken(token);
    const res = await relay.api('POST', `/api/v1/subscriptions/${sub.id}/sync`);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ alertId: null, lastSync: { status: 'failed', error: { code: 'token_revoked' } } });
    expect((await relay.api('GET', `/api/v1/subscriptions/${sub.id}`)).body.authorization.status).toBe('Re-authorization required');
  });

  it('records a failed test DM as a failed sync', async () => {
    const sub = await relay.createSubscription({ recipient: 'nobody@example.com' });
    const res = await relay.api('POST', `/api/v1/subscriptions/${sub.id}/sync`);
    expect((await relay.waitForAlert(res.body.alertId)).status).toBe('failed');
    await expect.poll(async () => (await lastSync(sub.id)).status).toBe('failed');
    expect((await lastSync(sub.id)).error.code).toBe('users_not_found');
  });

  it('fails not_authorized with a placeholder token and no OAuth', async () => {
    const sub = await relay.createSubscription({ apiToken: '-', clientId: '-' });
    const res = await relay.api('POST', `/api/v1/subscriptions/${sub.id}/sync`);
    expect(res.body.lastSync).toMatchObject({ status: 'failed', error: { code: 'not_authorized' } });
    expect((await relay.api('POST', '/api/v1/subscriptions/sub_nope/sync')).status).toBe(404);
  });

  it('says pending until the test DM has an outcome, then ok', async () => {
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    relay.sandbox.inject({ kind: 'delay', ms: 800, method: 'chat.postMessage', times: 1 });
    const res = await relay.api('POST', `/api/v1/subscriptions/${sub.id}/sync`);
    expect(res.body.lastSync).toMatchObject({ status: 'pending', error: null, alertId: res.body.alertId });
    // auth.test passed, the DM is on its way: still pending
    await expect.poll(() => relay.sandbox.callsTo('chat.postMessage').some((c) => c.status === 0)).toBe(true);
    expect((await lastSync(sub.id)).status).toBe('pending');
    await relay.waitForAlert(res.body.alertId, ['delivered']);
    expect(await lastSync(sub.id)).toMatchObject({ status: 'ok', error: null, alertId: res.body.alertId });
  });
});
