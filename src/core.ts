import type { Config } from './config.js';
import { createDb, type Db } from './db/client.js';
import { runMigrations } from './db/migrate.js';
import { AlertStore } from './alerts/alert-store.js';
import { SubscriptionStore } from './subscriptions/subscription-store.js';
import { createVault, type Vault } from './lib/vault.js';

/** What web and worker processes share: the database, the vault and the two stores. */
export interface Core {
  db: Db;
  vault: Vault;
  alerts: AlertStore;
  subscriptions: SubscriptionStore;
}

export function createCore(
  config: Pick<Config, 'databasePath' | 'encryptionKey'>,
  { migrate = false, busyTimeoutMs = 5000 } = {},
): Core {
  const db = createDb(config.databasePath, { busyTimeoutMs });
  if (migrate) runMigrations(db);
  return {
    db,
    vault: createVault(config.encryptionKey),
    alerts: new AlertStore(db),
    subscriptions: new SubscriptionStore(db),
  };
}
