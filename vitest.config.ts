import { defineConfig } from 'vitest/config';

/**
 * Two projects: `sqlite` runs every test with the relays on SQLite files (the embedded default);
 * `postgres` runs the suites that exercise the stores through the product (integration, faults,
 * browser) again with the relays on PostgreSQL: one server for the run, a database per relay.
 * The many-hosts test (test/hosts) starts a PostgreSQL of its own on its infra host, and runs once, here.
 */
const POSTGRES_SUITES = ['test/integration/**/*.test.ts', 'test/faults/**/*.test.ts', 'test/browser/**/*.test.ts'];
/** The stores' contract suite runs each dialect itself, in the project that has a PostgreSQL server. */
const STORE_CONTRACT = 'test/db/**/*.test.ts';
const MANY_HOSTS = 'test/hosts/**/*.test.ts';

export default defineConfig({
  test: {
    // Two cores: two files at a time across both projects, each in its own process (timing tests need the headroom).
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'sqlite', include: ['test/**/*.test.ts'], exclude: [STORE_CONTRACT, MANY_HOSTS], globalSetup: ['test/global-setup.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: [...POSTGRES_SUITES, STORE_CONTRACT, MANY_HOSTS],
          globalSetup: ['test/global-setup.ts', 'test/helpers/postgres-global-setup.ts'],
          env: { RELAY_TEST_DB: 'postgres' },
        },
      },
    ],
  },
});
