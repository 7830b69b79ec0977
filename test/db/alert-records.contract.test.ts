import { describe, expect, it } from 'vitest';
import type { AlertStatus } from '../../src/domain.js';
import type { AlertRow } from '../../src/db/rows.js';
import type { AlertStore, StatusChange } from '../../src/db/stores.js';
import { alertRow, countAlerts, DIALECTS, freshStores, T0 } from './contract-stores.js';

/** AlertStore's reads and the record's state machine, on each dialect. */
const WAITING: readonly AlertStatus[] = ['queued', 'retrying', 'delivering']; // src/alerts/alert-lifecycle.ts
const NOW = T0 + 3_600_000;

async function insert(alerts: AlertStore, ...rows: AlertRow[]): Promise<void> {
  await alerts.insertUnlessRepeated([rows], T0 - 86_400_000);
}

describe.each(DIALECTS)('%s', (dialect) => {
  const t = freshStores(dialect);

  describe('get and list', () => {
    it('get answers every field as stored; undefined for an unknown id', async () => {
      const { alerts } = t().stores;
      const row = alertRow({
        status: 'delivered', attempts: 3, tokenSource: 'oauth', transfer: 'initial', slackChannel: 'D07ALICE01', slackTs: '1741944600.000200',
        idempotencyKey: 'deploy-4711', payloadHash: 'q1w2e3r4t5y6u7i8o9p0', message: { text: 'Disk 95% on db-1', severity: 'critical' },
        updatedAt: T0 + 2500, deliveredAt: T0 + 2500,
      });
      const failed = alertRow({ status: 'failed', attempts: 5, errorCode: 'channel_not_found', errorMessage: 'Slack answered channel_not_found.', apiKeyId: null });
      await insert(alerts, row, failed);
      expect(await alerts.get(row.id)).toStrictEqual(row);
      expect(await alerts.get(failed.id)).toStrictEqual(failed);
      expect(typeof (await alerts.get(row.id))!.deliveredAt).toBe('number');
      expect(await alerts.get('alr_01JPBZ0000000000000000NONE')).toBeUndefined();
    });

    it('list filters by subscriptionId, status and apiKeyId, newest first, up to limit', async () => {
      const { alerts } = t().stores;
      const subA = 'sub_01JPBZAAAAAAAAAAAAAAAAAAAA';
      const subB = 'sub_01JPBZBBBBBBBBBBBBBBBBBBBB';
      const spec: [string, AlertStatus, string | null][] = [
        [subA, 'queued', 'k_one'], [subB, 'delivered', 'k_one'], [subA, 'failed', 'k_two'], [subA, 'delivered', null],
        [subB, 'queued', 'k_two'], [subA, 'queued', 'k_one'], [subB, 'failed', null], [subA, 'delivered', 'k_one'],
      ];
      const rows = spec.map(([subscriptionId, status, apiKeyId], i) => alertRow({ subscriptionId, status, apiKeyId, createdAt: T0 + i * 1000 }));
      // inserted out of order: the order is the records', not the inserts'
      await insert(alerts, ...rows.slice(4));
      await insert(alerts, ...rows.slice(0, 4));
      const ids = (list: AlertRow[]) => list.map((row) => row.id);
      const expected = (keep: (row: AlertRow) => boolean) => ids(rows.filter(keep).reverse());

      expect(await alerts.list({ limit: 100 })).toStrictEqual([...rows].reverse());
      expect(ids(await alerts.list({ limit: 3 }))).toStrictEqual(ids([...rows].reverse().slice(0, 3)));
      expect(ids(await alerts.list({ subscriptionId: subA, limit: 100 }))).toStrictEqual(expected((r) => r.subscriptionId === subA));
      expect(ids(await alerts.list({ subscriptionId: subA, limit: 2 }))).toStrictEqual(expected((r) => r.subscriptionId === subA).slice(0, 2));
      expect(ids(await alerts.list({ status: 'queued', limit: 100 }))).toStrictEqual(expected((r) => r.status === 'queued'));
      expect(ids(await alerts.list({ apiKeyId: 'k_one', limit: 100 }))).toStrictEqual(expected((r) => r.apiKeyId === 'k_one'));
      expect(ids(await alerts.list({ subscriptionId: subA, status: 'delivered', apiKeyId: 'k_one', limit: 100 }))).toStrictEqual([rows[7]!.id]);
      expect(ids(await alerts.list({ subscriptionId: subB, status: 'queued', limit: 100 }))).toStrictEqual([rows[4]!.id]);
      expect(await alerts.list({ subscriptionId: 'sub_01JPBZ0000000000000000NONE', limit: 100 })).toStrictEqual([]);
      expect(await alerts.list({ apiKeyId: 'k_unknown', limit: 100 })).toStrictEqual([]);
    });
  });

  describe('transition', () => {
    const cases: [string, Partial<AlertRow>, readonly AlertStatus[], StatusChange, Partial<AlertRow>][] = [
      ['queued (waiting)', { status: 'retrying', attempts: 1 }, WAITING, { status: 'queued' }, { status: 'queued' }],
      ['queued (retried from failed)', { status: 'failed', attempts: 5, errorCode: 'timeout', errorMessage: 'Slack did not answer.' }, ['failed'], { status: 'queued' }, { status: 'queued' }],
      ['delivering', { status: 'queued' }, WAITING, { status: 'delivering', tokenSource: 'bot_token' }, { status: 'delivering', tokenSource: 'bot_token' }],
      [
        'delivered',
        { status: 'delivering', tokenSource: 'oauth', attempts: 1, errorCode: 'ratelimited', errorMessage: 'Rate limited.' },
        ['delivering'],
        { status: 'delivered', channel: 'D07ALICE01', ts: '1741948200.000300', tokenSource: 'oauth', attempts: 2 },
        { status: 'delivered', slackChannel: 'D07ALICE01', slackTs: '1741948200.000300', tokenSource: 'oauth', attempts: 2, errorCode: null, errorMessage: null, deliveredAt: NOW },
      ],
      [
        'retrying',
        { status: 'delivering', tokenSource: 'oauth' },
        WAITING,
        { status: 'retrying', attempts: 1, error: { code: 'slack_unavailable', message: 'Slack answered 503.' } },
        { status: 'retrying', attempts: 1, errorCode: 'slack_unavailable', errorMessage: 'Slack answered 503.' },
      ],
      [
        'failed with attempts and tokenSource',
        { status: 'delivering', attempts: 2, tokenSource: 'oauth' },
        WAITING,
        { status: 'failed', error: { code: 'invalid_auth', message: 'The token was refused.' }, attempts: 3, tokenSource: 'bot_token' },
        { status: 'failed', attempts: 3, tokenSource: 'bot_token', errorCode: 'invalid_auth', errorMessage: 'The token was refused.' },
      ],
      [
        'failed without them (the earlier attempts and tokenSource kept)',
        { status: 'retrying', attempts: 4, tokenSource: 'oauth' },
        WAITING,
        { status: 'failed', error: { code: 'stalled', message: 'The job stalled too often.' } },
        { status: 'failed', attempts: 4, tokenSource: 'oauth', errorCode: 'stalled', errorMessage: 'The job stalled too often.' },
      ],
    ];

    it.each(cases)('%s: moves from an allowed state and answers the row as it now is', async (_name, before, from, change, after) => {
      const { alerts } = t().stores;
      const row = alertRow(before);
      const bystander = alertRow(before);
      await insert(alerts, row, bystander);
      const expected = { ...row, ...after, updatedAt: NOW };
      expect(await alerts.transition(row.id, from, change, NOW)).toStrictEqual(expected);
      expect(await alerts.get(row.id)).toStrictEqual(expected);
      expect(await alerts.get(bystander.id)).toStrictEqual(bystander);
    });

    it.each(cases)('%s: from another state answers undefined and changes nothing', async (_name, before, from, change) => {
      const { alerts } = t().stores;
      const other: AlertStatus = (['delivered', 'failed', 'queued'] as const).find((s) => !from.includes(s))!;
      const row = alertRow({ ...before, status: other });
      await insert(alerts, row);
      expect(await alerts.transition(row.id, from, change, NOW)).toBeUndefined();
      expect(await alerts.get(row.id)).toStrictEqual(row);
      expect(await alerts.transition('alr_01JPBZ0000000000000000NONE', from, change, NOW)).toBeUndefined();
    });

    it('200 concurrent delivering → delivered transitions all land, each with its own outcome', async () => {
      const { alerts } = t().stores;
      const rows = Array.from({ length: 200 }, (_, i) => alertRow({ status: 'delivering', tokenSource: 'oauth', createdAt: T0 + i }));
      await insert(alerts, ...rows);
      const ts = (i: number) => `1741948200.${String(i).padStart(6, '0')}`;
      const answers = await Promise.all(
        rows.map((row, i) =>
          alerts.transition(row.id, ['delivering'], { status: 'delivered', channel: `D0${i}`, ts: ts(i), tokenSource: i % 2 ? 'oauth' : 'bot_token', attempts: 1 + (i % 3) }, NOW + i),
        ),
      );
      answers.forEach((answer, i) =>
        expect(answer).toStrictEqual({
          ...rows[i], status: 'delivered', slackChannel: `D0${i}`, slackTs: ts(i), tokenSource: i % 2 ? 'oauth' : 'bot_token', attempts: 1 + (i % 3), deliveredAt: NOW + i, updatedAt: NOW + i,
        }),
      );
      expect(await alerts.list({ status: 'delivered', limit: 1000 })).toHaveLength(200);
      expect((await alerts.get(rows[137]!.id))!.slackTs).toBe(ts(137));
    });

    it('two transitions of one record submitted together: the one whose from matches answers the row, the other undefined', async () => {
      const { alerts } = t().stores;
      const row = alertRow({ status: 'queued' });
      await insert(alerts, row);
      // Bull Board's retry (from failed only) and a worker starting the delivery, in the same moment
      const [retried, delivering] = await Promise.all([
        alerts.transition(row.id, ['failed'], { status: 'queued' }, NOW),
        alerts.transition(row.id, WAITING, { status: 'delivering', tokenSource: 'oauth' }, NOW),
      ]);
      const moved = { ...row, status: 'delivering', tokenSource: 'oauth', updatedAt: NOW };
      expect(await alerts.get(row.id)).toStrictEqual(moved);
      expect({ retried, delivering }).toStrictEqual({ retried: undefined, delivering: moved });
    });
  });

  it('waitingSince pages through the queued, retrying and delivering records untouched since `before`, by updatedAt', async () => {
    const { alerts } = t().stores;
    const spec: [AlertStatus, number][] = [
      ['queued', 100], ['retrying', 50], ['delivering', 300], ['delivered', 10], ['failed', 20], ['queued', 900], ['retrying', 500], ['queued', 499],
    ];
    const rows = spec.map(([status, age], i) => alertRow({ status, createdAt: T0 + i, updatedAt: T0 + age }));
    await insert(alerts, ...rows);
    const before = T0 + 500;
    const waiting = [rows[1]!, rows[0]!, rows[2]!, rows[7]!];
    expect(await alerts.waitingSince(before, { limit: 100, offset: 0 })).toStrictEqual(waiting);
    expect(await alerts.waitingSince(before, { limit: 3, offset: 0 })).toStrictEqual(waiting.slice(0, 3));
    expect(await alerts.waitingSince(before, { limit: 3, offset: 3 })).toStrictEqual(waiting.slice(3));
    expect(await alerts.waitingSince(before, { limit: 3, offset: 6 })).toStrictEqual([]);
    expect(await alerts.waitingSince(T0, { limit: 100, offset: 0 })).toStrictEqual([]);
  });

  it('countsByOutcome counts per subscription, status and error code', async () => {
    const { alerts } = t().stores;
    const subA = 'sub_01JPBZAAAAAAAAAAAAAAAAAAAA';
    const subB = 'sub_01JPBZBBBBBBBBBBBBBBBBBBBB';
    expect(await alerts.countsByOutcome()).toStrictEqual([]);
    await insert(
      alerts,
      alertRow({ subscriptionId: subA }),
      alertRow({ subscriptionId: subA }),
      alertRow({ subscriptionId: subA, status: 'failed', errorCode: 'channel_not_found', errorMessage: 'x' }),
      alertRow({ subscriptionId: subA, status: 'failed', errorCode: 'invalid_auth', errorMessage: 'x' }),
      alertRow({ subscriptionId: subA, status: 'failed', errorCode: 'invalid_auth', errorMessage: 'x' }),
      alertRow({ subscriptionId: subB, status: 'delivered', deliveredAt: T0 + 10 }),
      alertRow({ subscriptionId: subB, status: 'retrying', errorCode: 'slack_unavailable', errorMessage: 'x' }),
    );
    const key = (c: { subscriptionId: string; status: string; errorCode: string | null }) => `${c.subscriptionId}|${c.status}|${c.errorCode}`;
    const counts = (await alerts.countsByOutcome()).sort((a, b) => key(a).localeCompare(key(b)));
    expect(counts).toStrictEqual([
      { subscriptionId: subA, status: 'failed', errorCode: 'channel_not_found', count: 1 },
      { subscriptionId: subA, status: 'failed', errorCode: 'invalid_auth', count: 2 },
      { subscriptionId: subA, status: 'queued', errorCode: null, count: 2 },
      { subscriptionId: subB, status: 'delivered', errorCode: null, count: 1 },
      { subscriptionId: subB, status: 'retrying', errorCode: 'slack_unavailable', count: 1 },
    ]);
  });

  it('latencyHistogram: cumulative counts at each bound (inclusive), sum and count of delivered records', async () => {
    const { alerts } = t().stores;
    const bounds = [100, 500, 1000, 5000];
    expect(await alerts.latencyHistogram(bounds)).toStrictEqual({ cumulative: [0, 0, 0, 0], sumMs: 0, count: 0 });
    const delivered = [120, 500, 950, 3000, 7000].map((latency, i) =>
      alertRow({ status: 'delivered', createdAt: T0 + i * 10_000, deliveredAt: T0 + i * 10_000 + latency, updatedAt: T0 + i * 10_000 + latency }),
    );
    await insert(alerts, ...delivered, alertRow({ status: 'queued' }), alertRow({ status: 'failed', errorCode: 'invalid_auth', errorMessage: 'x' }));
    expect(await alerts.latencyHistogram(bounds)).toStrictEqual({ cumulative: [0, 2, 3, 4], sumMs: 11_570, count: 5 });
  });

  it('deleteMany deletes those records only; [] and unknown ids are no-ops', async () => {
    const { alerts } = t().stores;
    const rows = Array.from({ length: 5 }, () => alertRow());
    await insert(alerts, ...rows);
    await alerts.deleteMany([]);
    await alerts.deleteMany([rows[1]!.id, rows[3]!.id, 'alr_01JPBZ0000000000000000NONE']);
    expect(await alerts.list({ limit: 10 })).toStrictEqual([rows[4], rows[2], rows[0]]);
    expect(await alerts.get(rows[1]!.id)).toBeUndefined();
    expect(await countAlerts(t())).toBe(3);
  });
});
