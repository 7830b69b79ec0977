import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type Api } from '../helpers/api-client.js';
import { sleep, startTestRelay, type TestRelay } from '../helpers/test-relay.js';

/**
 * POST /api/v1/integrations/alertmanager and /grafana (docs/contract.md §6.4) through the real
 * relay, against the Slack sandbox: one message per alert, a thread reply on a repeat, the message
 * edited on resolve, HA copies suppressed, a resolve that overtakes its firing waiting for it, and
 * bad bodies refused with nothing written.
 */
const fixture = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', name), 'utf8'));

let relay: TestRelay;
let intake: Api;
const DEDUP_WINDOW_SECONDS = 2;

beforeAll(async () => {
  relay = await startTestRelay({ env: { DEDUP_WINDOW_SECONDS: String(DEDUP_WINDOW_SECONDS) } });
  intake = apiClient(() => relay.web.url, relay.intakeKey);
});
afterAll(async () => {
  await relay?.close();
});

/** A fresh member per test, so that messages never mix. */
let members = 0;
async function member() {
  members += 1;
  const id = `U0INT${String(members).padStart(4, '0')}`;
  relay.sandbox.addUser({ id, name: `member-${members}`, email: `member-${members}@example.com` });
  const sub = await relay.createSubscription({ recipient: id });
  return { id, sub };
}

const amAlert = (fingerprint: string, status: 'firing' | 'resolved', extra: Record<string, unknown> = {}) => ({
  status,
  labels: { alertname: `Disk ${fingerprint}`, severity: 'critical', instance: 'db-1' },
  annotations: { summary: `disk almost full ${fingerprint}` },
  startsAt: '2026-12-01T10:00:00Z',
  endsAt: status === 'resolved' ? '2026-12-01T10:05:00Z' : '0001-01-01T00:00:00Z',
  generatorURL: 'https://prometheus.example.com/graph?g0.expr=x',
  fingerprint,
  ...extra,
});
const amBody = (alerts: unknown[]) => ({ version: '4', status: 'firing', receiver: 'relay', groupKey: '{}:{}', alerts });

const post = (format: 'alertmanager' | 'grafana', sub: { id: string }, body: unknown, query = '') =>
  intake('POST', `/api/v1/integrations/${format}?subscription=${encodeURIComponent(sub.id)}${query}`, body);

const settled = (ids: string[]) => Promise.all(ids.map((id) => relay.waitForAlert(id, ['delivered', 'failed', 'suppressed'], 15_000)));

describe('Alertmanager', () => {
  it('firing → one DM; fired again → a thread reply and a count, no new DM; resolved → the message edited, and a reply', async () => {
    const { id: user, sub } = await member();
    const first = await post('alertmanager', sub, amBody([amAlert('f1', 'firing')]));
    expect(first.status, first.text).toBe(200);
    expect(first.body).toEqual({ alerts: [{ id: expect.stringMatching(/^alr_/), status: 'queued' }] });
    const [fired] = await settled([first.body.alerts[0].id]);
    expect(fired).toMatchObject({ status: 'delivered', dedupKey: 'f1', event: 'firing' });
    const [message] = relay.sandbox.messages({ user, topLevel: true });
    expect(message!.text).toContain('disk almost full f1');
    expect(message!.metadata).toEqual({ event_type: 'relay_alert', event_payload: { alert_id: fired.id, dedup_key: 'f1' } });

    // the repeat Alertmanager sends after repeat_interval: the same notification, past the HA window
    await sleep(DEDUP_WINDOW_SECONDS * 1000 + 200);
    const again = await post('alertmanager', sub, amBody([amAlert('f1', 'firing')]));
    const [repeat] = await settled([again.body.alerts[0].id]);
    expect(repeat).toMatchObject({ status: 'delivered', slack: fired.slack });
    expect(relay.sandbox.messages({ user, topLevel: true })).toHaveLength(1);
    const replies = relay.sandbox.messages({ user, threadTs: message!.ts });
    expect(replies).toHaveLength(1);
    expect(JSON.stringify(relay.sandbox.message(message!.channel, message!.ts)!.blocks)).toContain('Fired 2 times');

    const resolve = await post('alertmanager', sub, amBody([amAlert('f1', 'resolved')]));
    const [resolved] = await settled([resolve.body.alerts[0].id]);
    expect(resolved).toMatchObject({ status: 'delivered', event: 'resolved', slack: fired.slack });
    const edited = await relay.sandbox.waitForEdit(message!.channel, message!.ts, { edits: 2 });
    expect(JSON.stringify(edited.blocks)).toContain(':white_check_mark: *Resolved*');
    expect(relay.sandbox.messages({ user, topLevel: true })).toHaveLength(1);
    expect(relay.sandbox.messages({ user, threadTs: message!.ts })).toHaveLength(2);
  });

  it('the same notification twice within DEDUP_WINDOW_SECONDS (an HA pair): one DM, the second suppressed as a duplicate', async () => {
    const { id: user, sub } = await member();
    const body = amBody([amAlert('ha1', 'firing'), amAlert('ha2', 'firing')]);
    const [a, b] = await Promise.all([post('alertmanager', sub, body), post('alertmanager', sub, body)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const records = await settled([...a.body.alerts, ...b.body.alerts].map((x: { id: string }) => x.id));
    expect(records.map((r) => r.status).sort()).toEqual(['delivered', 'delivered', 'suppressed', 'suppressed']);
    expect(records.filter((r) => r.status === 'suppressed').map((r) => r.error.code)).toEqual(['duplicate', 'duplicate']);
    expect(relay.sandbox.messages({ user, topLevel: true })).toHaveLength(2);
    expect(relay.sandbox.messages({ user }).filter((m) => m.threadTs)).toHaveLength(0);
  });

  it('a resolve with nothing open posts nothing and ends suppressed (nothing_to_resolve)', async () => {
    const { id: user, sub } = await member();
    const res = await post('alertmanager', sub, amBody([amAlert('never-fired', 'resolved')]));
    const [record] = await settled([res.body.alerts[0].id]);
    expect(record).toMatchObject({ status: 'suppressed', error: { code: 'nothing_to_resolve' } });
    expect(relay.sandbox.messages({ user })).toHaveLength(0);
  });

  it('a resolve sent 1 ms after its firing, while the firing post is slowed at Slack, ends as one message in the resolved state', async () => {
    const { id: user, sub } = await member();
    relay.sandbox.inject({ kind: 'delay', ms: 700, method: 'chat.postMessage', times: 1 });
    const firing = await post('alertmanager', sub, amBody([amAlert('order1', 'firing')]));
    await sleep(1);
    const resolve = await post('alertmanager', sub, amBody([amAlert('order1', 'resolved')]));
    const records = await settled([firing.body.alerts[0].id, resolve.body.alerts[0].id]);
    expect(records.map((r) => r.status)).toEqual(['delivered', 'delivered']);
    const top = relay.sandbox.messages({ user, topLevel: true });
    expect(top).toHaveLength(1);
    expect(JSON.stringify(top[0]!.blocks)).toContain(':white_check_mark: *Resolved*');
    expect(records[0]!.deliveredAt <= records[1]!.deliveredAt).toBe(true);
  });

  it('recipient in the query or as a label picks the member', async () => {
    const { sub } = await member();
    const { id: other } = await member();
    const { id: third } = await member();
    const res = await post('alertmanager', sub, amBody([amAlert('r1', 'firing'), amAlert('r2', 'firing', { labels: { alertname: 'R2', recipient: third } })]), `&recipient=${other}`);
    await settled(res.body.alerts.map((x: { id: string }) => x.id));
    expect(relay.sandbox.messages({ user: other }).map((m) => m.text).join()).toContain('disk almost full r1');
    expect(relay.sandbox.messages({ user: third })).toHaveLength(1);
  });
});

describe('Grafana', () => {
  it("the documentation's two firing alerts → two DMs; resolved → both edited to resolved", async () => {
    const { id: user, sub } = await member();
    const firing = await post('grafana', sub, fixture('grafana/firing-docs-valuestring.json'));
    expect(firing.status, firing.text).toBe(200);
    const fired = await settled(firing.body.alerts.map((x: { id: string }) => x.id));
    expect(fired.map((r) => r.status)).toEqual(['delivered', 'delivered']);
    const messages = relay.sandbox.messages({ user, topLevel: true });
    expect(messages).toHaveLength(2);
    expect(messages.map((m) => m.text).join('\n')).toContain('value=14151.331895396988');

    const resolved = await post('grafana', sub, fixture('grafana/resolved.json'));
    await settled(resolved.body.alerts.map((x: { id: string }) => x.id));
    for (const message of messages) {
      const now = await relay.sandbox.waitForEdit(message.channel, message.ts);
      expect(JSON.stringify(now.blocks)).toContain(':white_check_mark: *Resolved*');
    }
    expect(relay.sandbox.messages({ user, topLevel: true })).toHaveLength(2);
  });
});

describe('bad payloads change nothing', () => {
  const count = async () => (await relay.api('GET', '/api/v1/alerts?limit=1000')).body.alerts.length;

  it.each([
    ['alertmanager', 'a wrong version', { ...amBody([amAlert('b1', 'firing')]), version: '3' }, 400],
    ['alertmanager', 'no alerts', { version: '4' }, 400],
    ['alertmanager', 'wrong types', amBody([{ ...amAlert('b2', 'firing'), labels: { alertname: 7 } }]), 400],
    ['alertmanager', '10,000 alerts', amBody(Array.from({ length: 10_000 }, (_, i) => amAlert(`many${i}`, 'firing'))), 400],
    ['alertmanager', '10,000 alerts over 8 MB', amBody(Array.from({ length: 10_000 }, (_, i) => amAlert(`big${i}`, 'firing', { annotations: { description: 'd'.repeat(1000) } }))), 413],
    ['grafana', 'an Alertmanager body', amBody([amAlert('b3', 'firing')]), 400],
    ['grafana', 'not JSON', 'alerts: yes', 400],
  ] as const)('%s: %s → %s, nothing written', async (format, _what, body, status) => {
    const { sub } = await member();
    const before = await count();
    const res = await post(format, sub, body);
    expect(res.status, res.text).toBe(status);
    expect(res.body.error).toBe(status === 413 ? 'payload_too_large' : 'invalid_request');
    expect(await count()).toBe(before);
  });

  it('no subscription in the query: 400; an unknown one: 404; no key: 401', async () => {
    const body = amBody([amAlert('q1', 'firing')]);
    expect((await intake('POST', '/api/v1/integrations/alertmanager', body)).status).toBe(400);
    expect((await intake('POST', '/api/v1/integrations/alertmanager?subscription=nope', body)).body.error).toBe('not_found');
    const anonymous = await fetch(`${relay.web.url}/api/v1/integrations/alertmanager?subscription=x`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    expect(anonymous.status).toBe(401);
  });
});
