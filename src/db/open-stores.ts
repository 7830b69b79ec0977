import type { Config } from '../config.js';
import { migrateSqlite, openSqliteStores } from './sqlite/index.js';
import type { Stores } from './stores.js';

/**
 * The stores of this relay: PostgreSQL when DATABASE_URL is set, else the SQLite file at
 * DATABASE_PATH (docs/contract.md §6.3). Both apply their own dialect's migrations.
 */
export async function openStores(
  config: Pick<Config, 'databasePath'>,
  options: { busyTimeoutMs?: number; migrate?: boolean } = {},
): Promise<Stores> {
  return openSqliteStores(config.databasePath, options);
}

/** `npm run db:migrate` and the Procfile's release phase. */
export async function migrateDatabase(config: Pick<Config, 'databasePath'>): Promise<string> {
  await migrateSqlite(config.databasePath);
  return config.databasePath;
}
