import type { Config } from '../config.js';
import type { Stores } from './stores.js';

/**
 * The stores of this relay: PostgreSQL when DATABASE_URL is set, else the SQLite file at
 * DATABASE_PATH (docs/contract.md §6.3). Both apply their own dialect's migrations. Each dialect's
 * driver is loaded only when it is used: a process carries one of them, not both.
 */
export async function openStores(
  config: Pick<Config, 'databasePath' | 'databaseUrl'>,
  options: { role?: 'web' | 'worker'; busyTimeoutMs?: number; migrate?: boolean } = {},
): Promise<Stores> {
  if (config.databaseUrl) {
    const { openPostgresStores } = await import('./postgres/index.js');
    return openPostgresStores(config.databaseUrl, { role: options.role, migrate: options.migrate });
  }
  const { openSqliteStores } = await import('./sqlite/index.js');
  return openSqliteStores(config.databasePath, options);
}

/** `npm run db:migrate` and the Procfile's release phase; answers where (with no password). */
export async function migrateDatabase(config: Pick<Config, 'databasePath' | 'databaseUrl'>): Promise<string> {
  if (config.databaseUrl) {
    const { migratePostgres } = await import('./postgres/index.js');
    await migratePostgres(config.databaseUrl);
    return config.databaseUrl.replace(/\/\/([^@/]*)@/, '//***@');
  }
  const { migrateSqlite } = await import('./sqlite/index.js');
  await migrateSqlite(config.databasePath);
  return config.databasePath;
}
