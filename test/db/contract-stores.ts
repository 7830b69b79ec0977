import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, inject } from 'vitest';
import type { AlertStatus, ThrottleSettings } from '../../src/domain.js';
import { ulid } from '../../src/lib/ids.js';
import { openPostgresStores } from '../../src/db/postgres/index.js';
import type { AlertRow, InstallationRow, OAuthStateRow, SubscriptionRow } from '../../src/db/rows.js';
import { openSqliteStores } from '../../src/db/sqlite/index.js';
import type { Stores } from '../../src/db/stores.js';
import { createDatabase } from '../helpers/postgres-server.js';
import { dbQuery } from '../helpers/test-db.js';

/**
 * The stores' contract suite (test/db/*.contract.test.ts) runs every contract against both
 * dialects: `describe.each(DIALECTS)`, each test with fresh stores on a database of its own (a new
 * SQLite file in a temp folder, or a new database on the run's PostgreSQL server), migrated.
 */
export type Dialect = 'sqlite' | 'postgres';
export const DIALECTS: Dialect[] = ['sqlite', 'postgres'];

export interface DatabaseEnv {
  DATABASE_PATH?: string;
  DATABASE_URL?: string;
}

export interface TestStores {
  dialect: Dialect;
  stores: Stores;
  env: DatabaseEnv;
  /** Other stores on the same database: another process (another connection, another cache). */
  another(options?: { busyTimeoutMs?: number }): Promise<Stores>;
  /** One SQL statement outside the stores (`$1` placeholders, both dialects). */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export interface TestDatabase {
  env: DatabaseEnv;
  /** what openStores (src/db/open-stores.ts) reads of the configuration */
  config: { databasePath: string; databaseUrl: string | null };
  drop(): Promise<void>;
}

/** A fresh, empty database of `dialect`, not migrated: a new SQLite file, or a new PostgreSQL database. */
export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'relay-contract-'));
    const path = join(dir, 'relay.db');
    return { env: { DATABASE_PATH: path }, config: { databasePath: path, databaseUrl: null }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `contract_${randomBytes(6).toString('hex')}`;
  const serverUrl = inject('postgresUrl');
  const url = await createDatabase(serverUrl, name);
  return { env: { DATABASE_URL: url }, config: { databasePath: '/nonexistent/relay.db', databaseUrl: url }, drop: () => dropDatabase(serverUrl, name) };
}

/** A fresh, empty, migrated database of `dialect` and the stores on it. */
export async function openTestStores(dialect: Dialect, options: { busyTimeoutMs?: number } = {}): Promise<TestStores> {
  const database = await createTestDatabase(dialect);
  const { env } = database;
  const opened: Stores[] = [];
  const open = async (o: { busyTimeoutMs?: number } = {}): Promise<Stores> =>
    env.DATABASE_PATH
      ? openSqliteStores(env.DATABASE_PATH, { busyTimeoutMs: o.busyTimeoutMs ?? options.busyTimeoutMs ?? 5000, migrate: true })
      : openPostgresStores(env.DATABASE_URL!, { role: 'web', migrate: true });
  const track = async (o?: { busyTimeoutMs?: number }) => {
    const stores = await open(o);
    opened.push(stores);
    return stores;
  };
  const stores = await track();
  return {
    dialect,
    stores,
    env,
    another: track,
    sql: (text, params = []) => dbQuery(env, text, params),
    async close() {
      await Promise.all(opened.map((s) => s.close().catch(() => {})));
      await database.drop();
    },
  };
}

async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const admin = new URL(serverUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Fresh stores for each test of the enclosing describe: `const t = freshStores(dialect)`, then `t().stores`. */
export function freshStores(dialect: Dialect, options: { busyTimeoutMs?: number } = {}): () => TestStores {
  let current: TestStores | undefined;
  beforeEach(async () => {
    current = await openTestStores(dialect, options);
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return () => {
    if (!current) throw new Error('no stores outside a test');
    return current;
  };
}

// ---- realistic rows ----------------------------------------------------------------------------

/** A fixed morning (2025-03-14 09:30 UTC), so that rows are ordered by the times the tests give them. */
export const T0 = Date.UTC(2025, 2, 14, 9, 30, 0);
let sequence = 0;
const next = () => ++sequence;

export const THROTTLE: ThrottleSettings = {
  initial: { limit: 20, seconds: 60, concurrency: 2 },
  ongoing: { limit: 60, seconds: 60, concurrency: 4 },
};

export function subscriptionRow(overrides: Partial<SubscriptionRow> = {}): SubscriptionRow {
  const n = next();
  const createdAt = overrides.createdAt ?? T0 + n * 1000;
  const name = overrides.name ?? `payments-prod-${n}`;
  return {
    id: `sub_${ulid(createdAt)}`,
    name,
    nameKey: name.toLowerCase(),
    version: '2024-11-05',
    apiUrl: 'https://slack.com/api/',
    apiTokenSealed: `v1:${randomBytes(48).toString('base64')}`,
    apiTokenMask: `xoxb-…${randomBytes(2).toString('hex')}`,
    clientId: '4812309981.7730215561987',
    recipient: `U0${randomBytes(4).toString('hex').toUpperCase()}`,
    throttle: THROTTLE,
    reauthRequired: false,
    teamId: 'T0ACME0001',
    teamName: 'Acme Ops',
    lastSync: null,
    createdAt,
    updatedAt: createdAt,
    ...overrides,
  };
}

export function installationRow(subscriptionId: string, overrides: Partial<InstallationRow> = {}): InstallationRow {
  return {
    subscriptionId,
    teamId: 'T0ACME0001',
    teamName: 'Acme Ops',
    botUserId: 'U0BOTRELAY',
    scopes: 'chat:write,im:write,users:read',
    accessTokenSealed: `v1:${randomBytes(48).toString('base64')}`,
    refreshTokenSealed: `v1:${randomBytes(48).toString('base64')}`,
    expiresAt: T0 + 12 * 3600_000,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

export function oauthStateRow(overrides: Partial<OAuthStateRow> = {}): OAuthStateRow {
  return {
    stateDigest: randomBytes(32).toString('base64url'),
    subscriptionId: `sub_${ulid(T0)}`,
    installOptions: { scopes: ['chat:write', 'im:write'], metadata: 'dashboard', redirectUri: 'https://relay.example.com/oauth/callback' },
    expiresAt: T0 + 10 * 60_000,
    ...overrides,
  };
}

/** An alert record as intake writes it (queued, no outcome yet); `createdAt` defaults to T0 + a sequence. */
export function alertRow(overrides: Partial<AlertRow> = {}): AlertRow {
  const n = next();
  const createdAt = overrides.createdAt ?? T0 + n;
  const status: AlertStatus = overrides.status ?? 'queued';
  return {
    id: `alr_${ulid(createdAt)}`,
    subscriptionId: 'sub_01JPBZ3XQ8M4W9T2K7V6N5R0CD',
    transfer: 'ongoing',
    status,
    attempts: 0,
    tokenSource: null,
    recipient: 'U0ALICE42',
    message: {
      title: `db-${n % 7}.eu-west-1`,
      text: `CPU above 90% for 5 minutes (sample ${n})`,
      severity: 'warning',
      fields: { region: 'eu-west-1', service: 'billing-api' },
      link: 'https://grafana.example.com/d/cpu?var-host=db-1',
    },
    slackChannel: null,
    slackTs: null,
    errorCode: null,
    errorMessage: null,
    apiKeyId: 'k_3f9a1c0e7b2d',
    idempotencyKey: null,
    payloadHash: null,
    dedupKey: null,
    event: 'firing',
    replyTs: null,
    coalesced: false,
    createdAt,
    updatedAt: createdAt,
    deliveredAt: null,
    ...overrides,
  };
}

/** A row with an idempotency key (and the payload hash intake binds to it). */
export const keyedRow = (key: string, payloadHash: string, overrides: Partial<AlertRow> = {}) =>
  alertRow({ idempotencyKey: key, payloadHash, ...overrides });

/** How many alert rows the database holds (optionally with this idempotency key). */
export async function countAlerts(t: TestStores, idempotencyKey?: string): Promise<number> {
  const rows = idempotencyKey === undefined
    ? await t.sql<{ n: number | string }>('select count(*) as n from alerts')
    : await t.sql<{ n: number | string }>('select count(*) as n from alerts where idempotency_key = $1', [idempotencyKey]);
  return Number(rows[0]!.n);
}

/** Waits `ms` milliseconds. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long `promise` took to settle, and how it settled. */
export async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; error?: unknown; value?: T }> {
  const start = performance.now();
  try {
    const value = await run();
    return { ms: performance.now() - start, value };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}
