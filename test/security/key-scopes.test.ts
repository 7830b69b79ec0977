import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RelayProcesses } from '../helpers/relay-processes.js';
import { apiAs, startFastRelay } from './helpers/relay.js';

/**
 * docs/contract.md §6.1 on the real web process: API_KEYS are intake keys (send alerts, read their
 * own records), ADMIN_API_KEYS may do everything. An intake key on an admin route is 403
 * `forbidden` and changes nothing; an intake key never sees another key's records.
 */
const redisUrl = inject('redisUrl');
const keyA = `intakeA_${randomBytes(16).toString('hex')}`;
const keyB = `intakeB_${randomBytes(16).toString('hex')}`;
let relay: RelayProcesses;

beforeAll(async () => {
  relay = await startFastRelay({ redisUrl, env: { API_KEYS: `${keyA},${keyB}` } });
  await relay.startWeb();
});
afterAll(() => relay?.close());

describe('an intake key on the admin routes', () => {
  it('gets 403 forbidden on every admin route and method, and nothing changes', async () => {
    const intake = apiAs(relay, keyA);
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    const before = (await relay.api('GET', `/api/v1/subscriptions/${sub.id}`)).body;
    const listBefore = (await relay.api('GET', '/api/v1/subscriptions')).body;
    const authTestsBefore = relay.sandbox.callsTo('auth.test').length;
    const newSub = { name: `Intake made ${randomBytes(3).toString('hex')}`, version: 'v1.0', apiToken: 'xoxb-1-2-intakeintakeintake', clientId: '1.2' };

    const routes: [string, string, unknown?][] = [
      ['GET', '/api/v1/subscriptions'],
      ['POST', '/api/v1/subscriptions', newSub],
      ['GET', `/api/v1/subscriptions/${sub.id}`],
      ['PATCH', `/api/v1/subscriptions/${sub.id}`, { name: 'Renamed by intake', recipient: 'U0BOB' }],
      ['DELETE', `/api/v1/subscriptions/${sub.id}`],
      ['POST', `/api/v1/subscriptions/${sub.id}/sync`],
      ['POST', `/api/v1/subscriptions/${sub.id}/initialize`],
      ['DELETE', `/api/v1/subscriptions/${sub.id}/authorization`],
      // the same routes spelled differently (Express matches paths case-insensitively, trailing slash optional)
      ['GET', '/api/v1/subscriptions/'],
      ['POST', '/API/V1/Subscriptions', { ...newSub, name: `${newSub.name} 2` }],
      ['DELETE', `/api/v1/subscriptions/${sub.id}/`],
      // unknown subscription ids answer 403 too: an intake key learns nothing about which exist
      ['GET', '/api/v1/subscriptions/sub_00000000000000000000000000'],
    ];
    const answers = [];
    for (const [method, path, body] of routes) {
      const res = await intake(method, path, body);
      answers.push({ route: `${method} ${path}`, status: res.status, error: res.body?.error });
    }
    const metrics = await fetch(`${relay.url}/metrics`, { headers: { authorization: `Bearer ${keyA}` } });
    answers.push({ route: 'GET /metrics (intake bearer key)', status: metrics.status, error: ((await metrics.json().catch(() => ({}))) as { error?: string }).error });

    expect(answers.filter((a) => a.status !== 403 || a.error !== 'forbidden'), 'routes that did not answer 403 forbidden').toEqual([]);

    // nothing changed: the subscription, the list, no sync ran, no subscription was made
    expect((await relay.api('GET', `/api/v1/subscriptions/${sub.id}`)).body).toEqual(before);
    expect((await relay.api('GET', '/api/v1/subscriptions')).body).toEqual(listBefore);
    expect(relay.sandbox.callsTo('auth.test').length).toBe(authTestsBefore);

    // and the admin key may do all of it (the 403s were about the key, not the routes)
    expect((await relay.api('GET', `/api/v1/subscriptions/${sub.id}`)).status).toBe(200);
    expect((await fetch(`${relay.url}/metrics`, { headers: { authorization: `Bearer ${relay.apiKey}` } })).status).toBe(200);
    expect((await relay.api('POST', `/api/v1/subscriptions/${sub.id}/initialize`)).status).toBe(501);
  });
});

describe('two intake keys', () => {
  it('each reads its own alerts (200) and gets 404 for the other’s; the list shows only its own; the admin key sees both', async () => {
    const a = apiAs(relay, keyA);
    const b = apiAs(relay, keyB);
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    const send = async (api: typeof a, text: string) => {
      const res = await api('POST', '/api/v1/alerts', { subscription: sub.id, text });
      expect(res.status, res.text).toBe(202);
      return res.body.id as string;
    };
    const fromA = [await send(a, 'from A 1'), await send(a, 'from A 2')];
    const fromB = [await send(b, 'from B 1')];
    // a batch is the same key's too
    const batch = await b('POST', '/api/v1/alerts/batch', { alerts: [{ subscription: sub.id, text: 'from B batch' }] });
    expect(batch.status).toBe(202);
    fromB.push(batch.body.alerts[0].id);
    // the relay's own alert (a manual sync's test message) belongs to no intake key
    const sync = await relay.api('POST', `/api/v1/subscriptions/${sub.id}/sync`);
    expect(sync.status).toBe(202);
    const own = sync.body.alertId as string;
    expect(own).toBeTruthy();

    const status = async (api: typeof a, id: string) => (await api('GET', `/api/v1/alerts/${id}`)).status;
    const seen = {
      aOwn: await Promise.all(fromA.map((id) => status(a, id))),
      aOthers: await Promise.all([...fromB, own].map((id) => status(a, id))),
      bOwn: await Promise.all(fromB.map((id) => status(b, id))),
      bOthers: await Promise.all([...fromA, own].map((id) => status(b, id))),
    };
    expect(seen).toEqual({ aOwn: [200, 200], aOthers: [404, 404, 404], bOwn: [200, 200], bOthers: [404, 404, 404] });
    // another key's alert answers exactly like an id that does not exist
    const missing = await a('GET', '/api/v1/alerts/alr_00000000000000000000000000');
    const other = await a('GET', `/api/v1/alerts/${fromB[0]}`);
    expect(other.body.error).toBe(missing.body.error);

    const ids = async (api: typeof a, query = '') => ((await api('GET', `/api/v1/alerts?limit=1000${query}`)).body.alerts as { id: string }[]).map((r) => r.id).sort();
    expect(await ids(a)).toEqual([...fromA].sort());
    expect(await ids(b)).toEqual([...fromB].sort());
    expect(await ids(a, `&subscription=${sub.id}`)).toEqual([...fromA].sort());
    expect(await ids(b, `&subscription=${encodeURIComponent(sub.name)}&status=queued`)).toEqual([...fromB].sort());

    const admin = await ids(relay.api, `&subscription=${sub.id}`);
    expect(admin).toEqual([...fromA, ...fromB, own].sort());
    for (const id of [...fromA, ...fromB, own]) expect((await relay.api('GET', `/api/v1/alerts/${id}`)).status).toBe(200);
  });
});
