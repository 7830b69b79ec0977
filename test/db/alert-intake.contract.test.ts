import { describe, expect, it } from 'vitest';
import type { AlertRow } from '../../src/db/rows.js';
import { alertRow, countAlerts, DIALECTS, freshStores, keyedRow, T0 } from './contract-stores.js';

/**
 * AlertStore.insertUnlessRepeated, on each dialect: each group is one intake request; a key is
 * scoped by its API key (null: the relay itself) and bound to its payload hash.
 */
const WINDOW_OPEN = T0 - 24 * 3600_000;
const fresh = (...rows: AlertRow[]) => ({ written: rows.map((row) => ({ row, repeated: false })) });
const repeated = (row: AlertRow) => ({ row, repeated: true });

describe.each(DIALECTS)('%s', (dialect) => {
  const t = freshStores(dialect);

  it('writes the fresh rows of several groups, each group answered in order', async () => {
    const { alerts } = t().stores;
    const a1 = keyedRow('deploy-4711', 'h-a1');
    const a2 = alertRow({ transfer: 'initial', recipient: 'U0BOB0001' });
    const b1 = keyedRow('deploy-4712', 'h-b1', { apiKeyId: 'k_77aa01' });
    const c1 = alertRow({ apiKeyId: null, subscriptionId: 'sub_01JPBZ9OTHERSUBSCRIPTION0' });
    expect(await alerts.insertUnlessRepeated([[a1, a2], [b1], [c1]], WINDOW_OPEN)).toStrictEqual([fresh(a1, a2), fresh(b1), fresh(c1)]);
    for (const row of [a1, a2, b1, c1]) expect(await alerts.get(row.id)).toStrictEqual(row);
    expect(await countAlerts(t())).toBe(4);
    expect(await alerts.insertUnlessRepeated([], WINDOW_OPEN)).toStrictEqual([]);
    expect(await alerts.insertUnlessRepeated([[]], WINDOW_OPEN)).toStrictEqual([{ written: [] }]);
  });

  it('a key repeated within the window (same API key, same payload) answers the earlier record and writes nothing', async () => {
    const { alerts } = t().stores;
    const first = keyedRow('deploy-4711', 'h-1');
    await alerts.insertUnlessRepeated([[first]], WINDOW_OPEN);
    const again = keyedRow('deploy-4711', 'h-1', { createdAt: T0 + 60_000 });
    const other = alertRow();
    expect(await alerts.insertUnlessRepeated([[again, other]], WINDOW_OPEN)).toStrictEqual([{ written: [repeated(first), { row: other, repeated: false }] }]);
    expect(await alerts.get(again.id)).toBeUndefined();
    expect(await countAlerts(t(), 'deploy-4711')).toBe(1);
    expect(await countAlerts(t())).toBe(2);
  });

  it('a key with another payload refuses its whole group ({ conflict: index, earlier }); the other groups are written', async () => {
    const { alerts } = t().stores;
    const first = keyedRow('deploy-4711', 'h-1');
    await alerts.insertUnlessRepeated([[first]], WINDOW_OPEN);
    const x = alertRow();
    const clash = keyedRow('deploy-4711', 'h-2');
    const y = keyedRow('deploy-4799', 'h-y');
    const z = keyedRow('deploy-4800', 'h-z');
    const w = alertRow();
    expect(await alerts.insertUnlessRepeated([[z], [x, clash, y], [w]], WINDOW_OPEN)).toStrictEqual([
      fresh(z),
      { conflict: 1, earlier: first },
      fresh(w),
    ]);
    for (const row of [x, clash, y]) expect(await alerts.get(row.id)).toBeUndefined();
    expect(await alerts.get(z.id)).toStrictEqual(z);
    expect(await alerts.get(w.id)).toStrictEqual(w);
    // the refused group's fresh key was not used: it is fresh next time
    const y2 = keyedRow('deploy-4799', 'h-y');
    expect(await alerts.insertUnlessRepeated([[y2]], WINDOW_OPEN)).toStrictEqual([fresh(y2)]);
  });

  it('keys repeated within one flush: a later group repeats (or conflicts with) an earlier group', async () => {
    const { alerts } = t().stores;
    const a = keyedRow('k-flush', 'h-1');
    const b = keyedRow('k-flush', 'h-1');
    const c = keyedRow('k-flush', 'h-2');
    const d = alertRow();
    expect(await alerts.insertUnlessRepeated([[a], [b], [c, d]], WINDOW_OPEN)).toStrictEqual([fresh(a), { written: [repeated(a)] }, { conflict: 0, earlier: a }]);
    expect(await countAlerts(t())).toBe(1);
    expect(await alerts.get(a.id)).toStrictEqual(a);
  });

  it('keys repeated within one group: the second answers the first; another payload refuses the group', async () => {
    const { alerts } = t().stores;
    const a = keyedRow('k-group', 'h-1');
    const b = keyedRow('k-group', 'h-1');
    expect(await alerts.insertUnlessRepeated([[a, b]], WINDOW_OPEN)).toStrictEqual([{ written: [{ row: a, repeated: false }, repeated(a)] }]);
    const c = keyedRow('k-other', 'h-1');
    const d = alertRow();
    const e = keyedRow('k-other', 'h-2');
    expect(await alerts.insertUnlessRepeated([[c, d, e]], WINDOW_OPEN)).toStrictEqual([{ conflict: 2, earlier: c }]);
    expect(await countAlerts(t())).toBe(1);
    expect(await alerts.get(c.id)).toBeUndefined();
    expect(await alerts.get(d.id)).toBeUndefined();
  });

  it('a null apiKeyId (the relay itself) scopes keys like an API key of its own', async () => {
    const { alerts } = t().stores;
    const relay = keyedRow('sync-2025-03-14', 'h-relay', { apiKeyId: null });
    const keyA = keyedRow('sync-2025-03-14', 'h-a', { apiKeyId: 'k_aaaa01' });
    const keyB = keyedRow('sync-2025-03-14', 'h-b', { apiKeyId: 'k_bbbb02' });
    expect(await alerts.insertUnlessRepeated([[relay], [keyA], [keyB]], WINDOW_OPEN)).toStrictEqual([fresh(relay), fresh(keyA), fresh(keyB)]);
    const relayAgain = keyedRow('sync-2025-03-14', 'h-relay', { apiKeyId: null });
    const relayClash = keyedRow('sync-2025-03-14', 'h-a', { apiKeyId: null });
    const keyAAgain = keyedRow('sync-2025-03-14', 'h-a', { apiKeyId: 'k_aaaa01' });
    expect(await alerts.insertUnlessRepeated([[relayAgain], [relayClash], [keyAAgain]], WINDOW_OPEN)).toStrictEqual([
      { written: [repeated(relay)] },
      { conflict: 0, earlier: relay },
      { written: [repeated(keyA)] },
    ]);
    expect(await countAlerts(t())).toBe(3);
  });

  it('a record older than sinceMs is no repeat; of several in the window, the newest is the earlier record', async () => {
    const { alerts } = t().stores;
    const old = keyedRow('nightly-backup', 'h-1', { createdAt: T0 });
    await alerts.insertUnlessRepeated([[old]], WINDOW_OPEN);
    const newer = keyedRow('nightly-backup', 'h-1', { createdAt: T0 + 25 * 3600_000 });
    // the window opened an hour after `old`
    expect(await alerts.insertUnlessRepeated([[newer]], T0 + 3600_000)).toStrictEqual([fresh(newer)]);
    // a window holding both: the newest answers
    const third = keyedRow('nightly-backup', 'h-1', { createdAt: T0 + 26 * 3600_000 });
    expect(await alerts.insertUnlessRepeated([[third]], WINDOW_OPEN)).toStrictEqual([{ written: [repeated(newer)] }]);
    const clash = keyedRow('nightly-backup', 'h-2');
    expect(await alerts.insertUnlessRepeated([[clash]], WINDOW_OPEN)).toStrictEqual([{ conflict: 0, earlier: newer }]);
    expect(await countAlerts(t())).toBe(2);
  });

  it('1,000 rows in one call (20 groups, half of them keyed), then the same keys again', async () => {
    const { alerts } = t().stores;
    const groups = Array.from({ length: 20 }, (_, g) =>
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? keyedRow(`bulk-${g}-${i}`, `h-${g}-${i}`, { createdAt: T0 + g * 50 + i }) : alertRow({ createdAt: T0 + g * 50 + i }))),
    );
    const rows = groups.flat();
    expect(await alerts.insertUnlessRepeated(groups, WINDOW_OPEN)).toStrictEqual(groups.map((group) => fresh(...group)));
    expect(await countAlerts(t())).toBe(1000);
    const listed = await alerts.list({ limit: 1000 });
    expect(listed.map((row) => row.id)).toStrictEqual(rows.map((row) => row.id).reverse());
    expect(listed[999]).toStrictEqual(rows[0]);

    const again = groups.map((group, g) =>
      group.map((row, i) => (row.idempotencyKey ? keyedRow(row.idempotencyKey, row.payloadHash!) : alertRow({ createdAt: T0 + 10_000 + g * 50 + i }))),
    );
    const outcomes = await alerts.insertUnlessRepeated(again, WINDOW_OPEN);
    expect(outcomes).toStrictEqual(
      again.map((group, g) => ({ written: group.map((row, i) => (row.idempotencyKey ? repeated(groups[g]![i]!) : { row, repeated: false })) })),
    );
    expect(await countAlerts(t())).toBe(1500);
  });

  it('two processes inserting one key at the same moment: exactly one inserts, each round', async () => {
    const a = t().stores.alerts;
    const b = (await t().another()).alerts;
    for (let round = 0; round < 40; round++) {
      const key = `race-${round}`;
      const rowA = keyedRow(key, 'h-race');
      const rowB = keyedRow(key, 'h-race');
      const [[outA], [outB]] = await Promise.all([a.insertUnlessRepeated([[rowA]], WINDOW_OPEN), b.insertUnlessRepeated([[rowB]], WINDOW_OPEN)]);
      const written = [outA, outB].map((outcome) => (outcome && 'written' in outcome ? outcome.written[0] : undefined));
      expect(written.filter((w) => w?.repeated === false)).toHaveLength(1);
      const winner = written.find((w) => w?.repeated === false)!.row;
      expect(written.filter((w) => w?.repeated === true).map((w) => w!.row)).toStrictEqual([winner]);
      expect(await countAlerts(t(), key)).toBe(1);
    }
    expect(await countAlerts(t())).toBe(40);
  });
});
