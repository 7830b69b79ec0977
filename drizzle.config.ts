import { defineConfig } from 'drizzle-kit';

// Used by `npx drizzle-kit generate` to turn src/db/schema.ts into SQL migrations in drizzle/.
// The relay applies them itself at start (src/db/migrate.ts); no database URL is needed here.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/db/schema.ts',
  out: './drizzle',
  casing: 'snake_case',
});
