import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` turns a dialect's schema into SQL migrations in drizzle/<dialect>, committed
// and applied by the relay itself (`npm run db:migrate`, the Procfile's release). Drizzle has no
// schema shared across dialects, so each has its own schema module and migrations folder:
//   npm run db:generate                      SQLite (src/db/sqlite/schema.ts → drizzle/sqlite)
//   DB_DIALECT=postgres npm run db:generate  PostgreSQL (src/db/postgres/schema.ts → drizzle/postgres)
// No database connection is needed to generate.
const dialect = process.env.DB_DIALECT === 'postgres' ? 'postgresql' : 'sqlite';
const folder = dialect === 'postgresql' ? 'postgres' : 'sqlite';

export default defineConfig({
  dialect,
  schema: `./src/db/${folder}/schema.ts`,
  out: `./drizzle/${folder}`,
  casing: 'snake_case',
});
