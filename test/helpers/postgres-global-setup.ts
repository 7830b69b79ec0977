import type { TestProject } from 'vitest/node';
import { removeStalePostgresServers, startPostgresServer } from './postgres-server.js';

/**
 * A vitest globalSetup with ONE PostgreSQL server for the whole run (start-up ~1 s once, instead of
 * per file). It is not wired in: add `'test/helpers/postgres-global-setup.ts'` to `globalSetup` in
 * vitest.config.ts to use it. Each test file then makes its own database, so files running in
 * parallel never see each other's tables:
 *
 * ```ts
 * import { inject } from 'vitest';
 * import { createDatabase } from '../helpers/postgres-server.js';
 * const url = await createDatabase(inject('postgresUrl'), 'alert_intake'); // dropped and re-created
 * ```
 *
 * It also removes leftovers (folders, postmasters) of earlier runs that were killed.
 */
export default async function setup(project: TestProject) {
  removeStalePostgresServers();
  const server = await startPostgresServer({ database: 'relay_run' });
  project.provide('postgresUrl', server.url);
  return () => server.remove();
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's PostgreSQL server (database `relay_run`); make a database per file with createDatabase(). */
    postgresUrl: string;
  }
}
