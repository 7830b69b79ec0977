import { loadConfig } from '../config.js';
import { createDb } from './client.js';
import { runMigrations } from './migrate.js';
import { runMain } from '../lib/run-main.js';

/** `npm run db:migrate` and the Procfile's release phase. */
runMain(import.meta.url, async () => {
  const config = loadConfig();
  const db = createDb(config.databasePath);
  runMigrations(db);
  db.$client.close();
  process.stdout.write(`Migrations applied to ${config.databasePath}\n`);
  process.exit(0);
});
