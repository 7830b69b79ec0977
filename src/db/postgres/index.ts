import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { projectRoot } from '../../lib/project-root.js';
import type { Stores } from '../stores.js';
import { PostgresAlertStore } from './alert-store.js';
import { PostgresMessageStore } from './message-store.js';
import { createPool, pgGuarded, withClient, WEB_TIMEOUTS, WORKER_TIMEOUTS, type PgPool } from './pool.js';
import * as schema from './schema.js';
import { PostgresInstallationStore, PostgresOAuthStateStore, PostgresSubscriptionStore } from './subscription-store.js';

/** Any fixed number: the advisory lock that lets one process at a time apply migrations. */
const MIGRATION_LOCK = 7_201_004_211;

/**
 * The stores on PostgreSQL (DATABASE_URL), shared by every process on every host. The web waits at
 * most a second for an answer (503 after that); workers wait longer.
 */
export async function openPostgresStores(url: string, { role = 'web' as 'web' | 'worker', migrate: apply = false } = {}): Promise<Stores> {
  // migrations on a connection of their own, without the web's short statement timeout: a web
  // process may have to wait for another host's migration
  if (apply) await migratePostgres(url);
  const pool = createPool(url, role === 'web' ? WEB_TIMEOUTS : WORKER_TIMEOUTS);
  const db = drizzle({ client: pool, schema, casing: 'snake_case' });
  return {
    dialect: 'postgres',
    alerts: new PostgresAlertStore(pool),
    subscriptions: new PostgresSubscriptionStore(db),
    installations: new PostgresInstallationStore(db),
    oauthStates: new PostgresOAuthStateStore(db),
    messages: new PostgresMessageStore(db),
    async ping() {
      const { rows } = await pgGuarded(() => pool.query('select 1 as ok'));
      return rows[0]?.ok === 1;
    },
    async close() {
      await pool.end();
    },
  };
}

/**
 * Applies the committed migrations in drizzle/postgres, one process at a time: web processes on
 * several hosts may start together, and two of them creating the same table would fail.
 */
export async function runPostgresMigrations(pool: PgPool): Promise<void> {
  await withClient(pool, async (client) => {
    await client.query('set statement_timeout = 0');
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await migrate(drizzle({ client, casing: 'snake_case' }), { migrationsFolder: join(projectRoot(), 'drizzle', 'postgres') });
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  });
}

/** `npm run db:migrate` on PostgreSQL. */
export async function migratePostgres(url: string): Promise<void> {
  const pool = createPool(url, WORKER_TIMEOUTS);
  try {
    await runPostgresMigrations(pool);
  } finally {
    await pool.end();
  }
}
