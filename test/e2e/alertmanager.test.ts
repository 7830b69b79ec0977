import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanagerBinary, startAlertmanager, startAlertmanagerPair, type PostableAlert, type TestAlertmanager } from '../helpers/alertmanager.js';
import { startTestRelay, type TestRelay } from '../helpers/test-relay.js';

/**
 * A real Prometheus Alertmanager (Debian's prometheus-alertmanager) with a webhook_configs receiver
 * pointing at the relay's /api/v1/integrations/alertmanager, the intake key in
 * http_config.authorization (docs/contract.md §6.4). Alerts go in through Alertmanager's own API;
 * what the member sees is read at the Slack sandbox.
 */
if (!alertmanagerBinary()) throw new Error('prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager; `npm run preflight` does it)');

const webhookUrl = (relay: TestRelay, subscriptionId: string) =>
  `${relay.web.url}/api/v1/integrations/alertmanager?subscription=${encodeURIComponent(subscriptionId)}`;

/** As Prometheus sends it to every Alertmanager: the same labels and the same startsAt. */
const alert = (name: string, run: string, startsAt = new Date(Number(run) - 60_000).toISOString()): PostableAlert => ({
  labels: { alertname: name, severity: 'critical', instance: `db-${run}`, run },
  startsAt,
  annotations: { summary: `${name} on db-${run}` },
  generatorURL: 'https://prometheus.example.com/graph?g0.expr=up',
});

describe('one Alertmanager: firing, repeat, resolve', () => {
  let relay: TestRelay;
  let am: TestAlertmanager;
  const member = 'U0ALICE';

  beforeAll(async () => {
    // a repeat after repeat_interval (1 s) is a new notification, past the HA window (1 s)
    relay = await startTestRelay({ env: { DEDUP_WINDOW_SECONDS: '1' } });
    const sub = await relay.createSubscription({ recipient: member });
    am = await startAlertmanager({ webhookUrl: webhookUrl(relay, sub.id), bearerToken: relay.intakeKey, groupBy: ['...'], repeatInterval: '2s' });
  });
  afterAll(async () => {
    await am?.remove();
    await relay?.close();
  });

  it('firing → one DM; fired again after repeat_interval → a thread reply, no new DM; resolved → the message edited to resolved, and a reply', async () => {
    const run = `${Date.now()}`;
    const disk = alert('DiskFull', run);
    await am.postAlerts([disk]);
    const [message] = await relay.sandbox.waitForMessages(1, { user: member, topLevel: true, timeoutMs: 10_000 });
    expect(message!.text).toContain(`DiskFull on db-${run}`);
    expect(message!.metadata).toMatchObject({ event_type: 'relay_alert', event_payload: { dedup_key: expect.stringMatching(/^[0-9a-f]{16}$/) } });

    // Alertmanager repeats the still-firing alert after repeat_interval
    const [reply] = await relay.sandbox.waitForMessages(1, { user: member, threadTs: message!.ts, timeoutMs: 15_000 });
    expect(reply!.text).toMatch(/Firing again/);
    await relay.sandbox.waitForEdit(message!.channel, message!.ts);
    expect(JSON.stringify(relay.sandbox.message(message!.channel, message!.ts)!.blocks)).toMatch(/Fired \d+ times/);
    expect(relay.sandbox.messages({ user: member, topLevel: true })).toHaveLength(1);

    await am.resolveAlerts([disk]);
    const resolved = await relay.sandbox.waitFor(
      () => {
        const now = relay.sandbox.message(message!.channel, message!.ts)!;
        return JSON.stringify(now.blocks).includes(':white_check_mark: *Resolved*') && now;
      },
      { timeoutMs: 10_000, description: 'the message edited to resolved' },
    );
    expect(resolved.edited).not.toBeNull();
    const replies = await relay.sandbox.waitFor(
      () => {
        const thread = relay.sandbox.messages({ user: member, threadTs: message!.ts });
        return thread.some((m) => /Resolved/.test(m.text)) && thread;
      },
      { timeoutMs: 10_000, description: 'a resolved reply in the thread' },
    );
    expect(replies.length).toBeGreaterThanOrEqual(2);
    expect(relay.sandbox.messages({ user: member, topLevel: true })).toHaveLength(1);

    // every notification Alertmanager sent was answered 200 with a record each
    const records = await waitForRecords(relay, 3);
    expect(records.every((r) => r.dedupKey === message!.metadata!.event_payload.dedup_key)).toBe(true);
    expect(records.some((r) => r.event === 'resolved' && r.status === 'delivered')).toBe(true);
  }, 60_000);
});

describe('an HA pair of Alertmanagers (not clustered: both notify)', () => {
  let relay: TestRelay;
  let pair: Awaited<ReturnType<typeof startAlertmanagerPair>>;
  const member = 'U0BOB';

  beforeAll(async () => {
    relay = await startTestRelay();
    const sub = await relay.createSubscription({ recipient: member });
    pair = await startAlertmanagerPair({ webhookUrl: webhookUrl(relay, sub.id), bearerToken: relay.intakeKey, groupBy: ['alertname'] });
  });
  afterAll(async () => {
    await pair?.remove();
    await relay?.close();
  });

  it('fed the same alerts, they give one DM per alert, and one edit and one reply per resolve', async () => {
    const run = `${Date.now()}`;
    const alerts = [alert('PairA', run), alert('PairB', run), alert('PairC', run)];
    await pair.postAlerts(alerts);
    const messages = await relay.sandbox.waitForMessages(3, { user: member, topLevel: true, timeoutMs: 10_000 });
    // both instances notified: the relay saw six alerts, and suppressed three
    await waitForRecords(relay, 6);
    const all = (await relay.api('GET', '/api/v1/alerts?limit=100')).body.alerts as { status: string; error: { code: string } | null }[];
    expect(all.filter((r) => r.status === 'delivered')).toHaveLength(3);
    expect(all.filter((r) => r.status === 'suppressed').map((r) => r.error?.code)).toEqual(['duplicate', 'duplicate', 'duplicate']);
    expect(relay.sandbox.messages({ user: member, topLevel: true })).toHaveLength(3);

    await pair.resolveAlerts(alerts);
    await waitForRecords(relay, 12);
    for (const message of messages) {
      const now = relay.sandbox.message(message.channel, message.ts)!;
      expect(JSON.stringify(now.blocks)).toContain(':white_check_mark: *Resolved*');
      expect(relay.sandbox.messages({ user: member, threadTs: message.ts })).toHaveLength(1);
    }
    expect(relay.sandbox.messages({ user: member, topLevel: true })).toHaveLength(3);
  }, 60_000);
});

/** Until `count` records exist and none is still waiting. */
async function waitForRecords(relay: TestRelay, count: number) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const all = (await relay.api('GET', '/api/v1/alerts?limit=100')).body.alerts as { status: string; dedupKey: string; event: string }[];
    if (all.length >= count && all.every((r) => ['delivered', 'failed', 'suppressed'].includes(r.status))) return all;
    if (Date.now() > deadline) throw new Error(`expected ${count} settled records, saw ${JSON.stringify(all.map((r) => r.status))}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
