import { loadConfig } from '../config.js';
import { runMain } from '../lib/run-main.js';
import { migrateDatabase } from './open-stores.js';

/** `npm run db:migrate` and the Procfile's release phase. */
runMain(import.meta.url, async () => {
  const where = await migrateDatabase(loadConfig());
  process.stdout.write(`Migrations applied to ${where}\n`);
  process.exit(0);
});
