import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { openStores } from '../../src/db/open-stores.js';
import { openPostgresStores } from '../../src/db/postgres/index.js';
import type { Stores } from '../../src/db/stores.js';
import { dbQuery } from '../helpers/test-db.js';
import { alertRow, createTestDatabase, DIALECTS, subscriptionRow, T0, type TestDatabase } from './contract-stores.js';

/** Migrations through openStores({ migrate: true }), on each dialect. */
const journal = (dialect: string) =>
  (JSON.parse(readFileSync(new URL(`../../drizzle/${dialect}/meta/_journal.json`, import.meta.url), 'utf8')) as { entries: { tag: string }[] }).entries;
const MIGRATIONS_TABLE = { sqlite: '__drizzle_migrations', postgres: 'drizzle.__drizzle_migrations' } as const;

describe.each(DIALECTS)('%s', (dialect) => {
  let database: TestDatabase | undefined;
  const opened: Stores[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((stores) => stores.close().catch(() => {})));
    await database?.drop();
    database = undefined;
  });
  const applied = () => dbQuery<{ hash: string; created_at: unknown }>(database!.env, `select hash, created_at from ${MIGRATIONS_TABLE[dialect]} order by created_at`);

  it('migrate: true a second time on the same database is a no-op', async () => {
    database = await createTestDatabase(dialect);
    const first = await openStores(database.config, { migrate: true });
    opened.push(first);
    expect(first.dialect).toBe(dialect);
    const sub = subscriptionRow();
    const alert = alertRow({ subscriptionId: sub.id });
    await first.subscriptions.insert(sub);
    await first.alerts.insertUnlessRepeated([[alert]], T0 - 1);
    const before = await applied();
    expect(before).toHaveLength(journal(dialect).length);
    await first.close();
    opened.pop();

    const second = await openStores(database.config, { migrate: true });
    opened.push(second);
    expect(await applied()).toStrictEqual(before);
    expect(await second.subscriptions.list()).toStrictEqual([sub]);
    expect(await second.alerts.get(alert.id)).toStrictEqual(alert);
  });

  if (dialect === 'postgres') {
    it('several processes migrating a fresh database at once all succeed, and it is migrated once', async () => {
      database = await createTestDatabase(dialect);
      const url = database.config.databaseUrl!;
      const results = await Promise.allSettled(Array.from({ length: 4 }, () => openPostgresStores(url, { migrate: true })));
      for (const result of results) if (result.status === 'fulfilled') opened.push(result.value);
      expect(results.map((result) => (result.status === 'fulfilled' ? 'ok' : String(result.reason)))).toStrictEqual(['ok', 'ok', 'ok', 'ok']);
      expect(await applied()).toHaveLength(journal(dialect).length);
      const [a, b, c, d] = opened as [Stores, Stores, Stores, Stores];
      expect(await Promise.all([a, b, c, d].map((stores) => stores.ping()))).toStrictEqual([true, true, true, true]);
      const sub = subscriptionRow();
      await a.subscriptions.insert(sub);
      expect(await d.subscriptions.get(sub.id)).toStrictEqual(sub);
    });
  }
});
