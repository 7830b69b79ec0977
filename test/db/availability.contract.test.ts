import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStores } from '../../src/db/postgres/index.js';
import type { AlertRow } from '../../src/db/rows.js';
import { DatabaseUnavailableError, type Stores } from '../../src/db/stores.js';
import { startPostgresServer, type TestPostgres } from '../helpers/postgres-server.js';
import {
  alertRow, countAlerts, DIALECTS, freshStores, installationRow, keyedRow, oauthStateRow, sleep, subscriptionRow, T0, timed, type DatabaseEnv,
} from './contract-stores.js';

/**
 * A database that cannot answer: every store call fails with DatabaseUnavailableError within a
 * second (the web's 503), a write that timed out is not carried out later, and the same stores
 * work again once the database is back.
 */
const WINDOW_OPEN = T0 - 86_400_000;

/**
 * Another writer holds the lock: SQLite `BEGIN EXCLUSIVE` on another connection; PostgreSQL
 * `LOCK TABLE alerts IN ACCESS EXCLUSIVE MODE` (and the other tables) from another client.
 */
async function holdLock(env: DatabaseEnv): Promise<() => Promise<void>> {
  if (env.DATABASE_URL) {
    const client = new pg.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    await client.query('begin');
    await client.query('lock table alerts in access exclusive mode');
    await client.query('lock table subscriptions, oauth_installations, oauth_states in access exclusive mode');
    return async () => {
      await client.query('rollback');
      await client.end();
    };
  }
  const db = new Database(env.DATABASE_PATH!);
  db.exec('BEGIN EXCLUSIVE');
  return async () => {
    db.exec('ROLLBACK');
    db.close();
  };
}

async function expectUnavailableWithinASecond(what: string, run: () => Promise<unknown>): Promise<void> {
  const { ms, error, value } = await timed(run);
  expect({ what, error, value }).toMatchObject({ what, error: expect.any(DatabaseUnavailableError), value: undefined });
  expect(ms, `${what} took ${Math.round(ms)} ms`).toBeLessThan(1000);
}

describe.each(DIALECTS)('%s: a write blocked by another writer', (dialect) => {
  // SQLite waits busyTimeoutMs for the lock; the PostgreSQL web role cancels statements after 650 ms
  const t = freshStores(dialect, { busyTimeoutMs: 200 });

  it('fails with DatabaseUnavailableError within a second, is not carried out after the release, and the stores work again', async () => {
    const { alerts, subscriptions, installations, oauthStates } = t().stores;
    const delivering = alertRow({ status: 'delivering', tokenSource: 'oauth' });
    const queued = alertRow();
    const doomed = alertRow();
    await alerts.insertUnlessRepeated([[delivering, queued, doomed]], WINDOW_OPEN);

    const release = await holdLock(t().env);
    const blocked = { plain: alertRow(), keyed: keyedRow('deploy-4711', 'h-1'), sub: subscriptionRow(), state: oauthStateRow() };
    try {
      // one at a time, as separate requests would be
      await expectUnavailableWithinASecond('insert (no key)', () => alerts.insertUnlessRepeated([[blocked.plain]], WINDOW_OPEN));
      await expectUnavailableWithinASecond('insert (keyed)', () => alerts.insertUnlessRepeated([[blocked.keyed]], WINDOW_OPEN));
      await expectUnavailableWithinASecond('transition delivered', () =>
        alerts.transition(delivering.id, ['delivering'], { status: 'delivered', channel: 'D07ALICE01', ts: '1741948200.000100', tokenSource: 'oauth', attempts: 1 }, T0 + 5000),
      );
      await expectUnavailableWithinASecond('transition failed', () =>
        alerts.transition(queued.id, ['queued'], { status: 'failed', error: { code: 'invalid_auth', message: 'refused' } }, T0 + 5000),
      );
      await expectUnavailableWithinASecond('deleteMany', () => alerts.deleteMany([doomed.id]));
      await expectUnavailableWithinASecond('subscriptions.insert', () => subscriptions.insert(blocked.sub));
      await expectUnavailableWithinASecond('installations.save', () => installations.save(installationRow(blocked.sub.id)));
      await expectUnavailableWithinASecond('oauthStates.put', () => oauthStates.put(blocked.state, T0));
    } finally {
      await release();
    }
    // a cancelled statement is not carried out later
    await sleep(300);
    expect(await alerts.get(blocked.plain.id)).toBeUndefined();
    expect(await alerts.get(blocked.keyed.id)).toBeUndefined();
    expect(await countAlerts(t())).toBe(3);
    expect(await alerts.get(delivering.id)).toStrictEqual(delivering);
    expect(await alerts.get(queued.id)).toStrictEqual(queued);
    expect(await alerts.get(doomed.id)).toStrictEqual(doomed);
    expect(await subscriptions.get(blocked.sub.id)).toBeUndefined();
    expect(await installations.get(blocked.sub.id)).toBeUndefined();
    expect(await oauthStates.take(blocked.state.stateDigest)).toBeUndefined();

    // the same stores work again
    expect(await alerts.insertUnlessRepeated([[blocked.keyed]], WINDOW_OPEN)).toStrictEqual([{ written: [{ row: blocked.keyed, repeated: false }] }]);
    expect((await alerts.transition(delivering.id, ['delivering'], { status: 'delivered', channel: 'D07ALICE01', ts: '1741948200.000100', tokenSource: 'oauth', attempts: 1 }, T0 + 6000))?.status).toBe('delivered');
    await subscriptions.insert(blocked.sub);
    expect(await subscriptions.get(blocked.sub.id)).toStrictEqual(blocked.sub);
  });
});

describe('postgres: the server goes down and comes back', () => {
  let server: TestPostgres;
  let stores: Stores;

  beforeAll(async () => {
    server = await startPostgresServer({ database: 'relay_outage' });
    stores = await openPostgresStores(server.url, { role: 'web', migrate: true });
  });
  afterAll(async () => {
    await stores?.close();
    await server?.remove();
  });

  it('every call fails with DatabaseUnavailableError within a second; after start() the same stores work again', async () => {
    const delivering = alertRow({ status: 'delivering', tokenSource: 'oauth' });
    const sub = subscriptionRow();
    await stores.alerts.insertUnlessRepeated([[delivering]], WINDOW_OPEN);
    await stores.subscriptions.insert(sub);
    // the test server commits asynchronously: make the rows survive the crash
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('checkpoint');
    await admin.end();

    await server.kill();
    const delivered = { status: 'delivered', channel: 'D07ALICE01', ts: '1741948200.000100', tokenSource: 'oauth', attempts: 1 } as const;
    const lost: AlertRow[] = [alertRow(), keyedRow('deploy-4711', 'h-1')];
    await expectUnavailableWithinASecond('alerts.get', () => stores.alerts.get(delivering.id));
    await expectUnavailableWithinASecond('alerts.list', () => stores.alerts.list({ limit: 10 }));
    await expectUnavailableWithinASecond('insert (no key)', () => stores.alerts.insertUnlessRepeated([[lost[0]!]], WINDOW_OPEN));
    await expectUnavailableWithinASecond('insert (keyed)', () => stores.alerts.insertUnlessRepeated([[lost[1]!]], WINDOW_OPEN));
    await expectUnavailableWithinASecond('transition', () => stores.alerts.transition(delivering.id, ['delivering'], delivered, T0 + 5000));
    await expectUnavailableWithinASecond('subscriptions.get', () => stores.subscriptions.get(sub.id));
    await expectUnavailableWithinASecond('subscriptions.findForIntake', () => stores.subscriptions.findForIntake(sub.name));
    await expectUnavailableWithinASecond('ping', () => stores.ping());
    // still down a moment later (no connection left half-open)
    await sleep(200);
    await expectUnavailableWithinASecond('alerts.get again', () => stores.alerts.get(delivering.id));

    await server.start();
    // the same instances, not recreated
    expect(await stores.ping()).toBe(true);
    expect(await stores.alerts.get(delivering.id)).toStrictEqual(delivering);
    expect(await stores.subscriptions.get(sub.id)).toStrictEqual(sub);
    for (const row of lost) expect(await stores.alerts.get(row.id)).toBeUndefined();
    expect(await stores.alerts.insertUnlessRepeated([lost], WINDOW_OPEN)).toStrictEqual([{ written: lost.map((row) => ({ row, repeated: false })) }]);
    expect(await stores.alerts.transition(delivering.id, ['delivering'], delivered, T0 + 6000)).toStrictEqual({
      ...delivering, status: 'delivered', slackChannel: 'D07ALICE01', slackTs: '1741948200.000100', attempts: 1, deliveredAt: T0 + 6000, updatedAt: T0 + 6000,
    });
  });
});
