import type { Stores } from '../stores.js';
import { SqliteAlertStore } from './alert-store.js';
import { createDb } from './client.js';
import { guarded } from './errors.js';
import { SqliteMessageStore } from './message-store.js';
import { runSqliteMigrations } from './migrate.js';
import { SqliteInstallationStore, SqliteOAuthStateStore, SqliteSubscriptionStore } from './subscription-store.js';

/** The stores on one SQLite file (DATABASE_PATH), shared by every process on this host. */
export function openSqliteStores(path: string, { busyTimeoutMs = 5000, migrate = false } = {}): Stores {
  const db = createDb(path, { busyTimeoutMs });
  if (migrate) runSqliteMigrations(db);
  return {
    dialect: 'sqlite',
    alerts: new SqliteAlertStore(db),
    subscriptions: new SqliteSubscriptionStore(db),
    installations: new SqliteInstallationStore(db),
    oauthStates: new SqliteOAuthStateStore(db),
    messages: new SqliteMessageStore(db),
    async ping() {
      return guarded(() => db.$client.prepare('select 1').get() !== undefined);
    },
    async close() {
      db.$client.close();
    },
  };
}

/** `npm run db:migrate` on SQLite. */
export async function migrateSqlite(path: string): Promise<void> {
  const db = createDb(path);
  try {
    runSqliteMigrations(db);
  } finally {
    db.$client.close();
  }
}
