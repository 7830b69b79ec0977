import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { inject } from 'vitest';
import { createDatabase } from './postgres-server.js';

/**
 * Which database the relays of this test run use: the vitest project `postgres` sets
 * RELAY_TEST_DB=postgres (and its globalSetup starts one PostgreSQL server for the run), every
 * other run uses SQLite files. Each relay gets a database of its own either way.
 */
export const TEST_DB: 'sqlite' | 'postgres' = process.env.RELAY_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';

/** The environment that points a relay at a fresh database: `DATABASE_PATH` in `dir`, or a new PostgreSQL database. */
export async function databaseEnv(dir: string): Promise<Record<string, string>> {
  if (TEST_DB === 'sqlite') return { DATABASE_PATH: join(dir, 'relay.db') };
  const url = await createDatabase(inject('postgresUrl'), `relay_${randomBytes(6).toString('hex')}`);
  return { DATABASE_PATH: join(dir, 'relay.db'), DATABASE_URL: url };
}

/**
 * One SQL statement against a relay's database, whichever it is, for what no API shows (expiring
 * OAuth states, reading a stored column). Written with PostgreSQL's `$1` placeholders; both
 * dialects share the tables and columns.
 */
export async function dbQuery<T = Record<string, unknown>>(env: { DATABASE_PATH?: string; DATABASE_URL?: string }, text: string, params: unknown[] = []): Promise<T[]> {
  if (env.DATABASE_URL) {
    const client = new pg.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    try {
      return (await client.query(text, params)).rows as T[];
    } finally {
      await client.end();
    }
  }
  const db = new Database(env.DATABASE_PATH!);
  try {
    const statement = db.prepare(text.replace(/\$\d+/g, '?'));
    return (statement.reader ? statement.all(...params) : (statement.run(...params), [])) as T[];
  } finally {
    db.close();
  }
}

/** A JSON column as stored: text in SQLite, already parsed from jsonb in PostgreSQL. */
export const jsonColumn = <T>(value: unknown): T | null => (value === null || value === undefined ? null : typeof value === 'string' ? (JSON.parse(value) as T) : (value as T));

/** Everything the database holds, as text, to search for what must never be stored (SQLite: the files, WAL included). */
export async function databaseDump(env: { DATABASE_PATH?: string; DATABASE_URL?: string }): Promise<string> {
  if (!env.DATABASE_URL) {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { basename, dirname } = await import('node:path');
    const dir = dirname(env.DATABASE_PATH!);
    const files = readdirSync(dir).filter((file) => file.startsWith(basename(env.DATABASE_PATH!)));
    return files.map((file) => readFileSync(join(dir, file)).toString('latin1')).join('\n');
  }
  const tables = ['subscriptions', 'oauth_installations', 'oauth_states', 'alerts'];
  const dumps = await Promise.all(tables.map(async (table) => JSON.stringify(await dbQuery(env, `select * from ${table}`))));
  return dumps.join('\n');
}

/**
 * Holds the database's write lock, as another writer would, until the answer is released: SQLite
 * `BEGIN EXCLUSIVE`; PostgreSQL `LOCK TABLE alerts` in an open transaction.
 */
export async function holdWriteLock(env: { DATABASE_PATH?: string; DATABASE_URL?: string }): Promise<() => Promise<void>> {
  if (env.DATABASE_URL) {
    const client = new pg.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    await client.query('begin');
    await client.query('lock table alerts in access exclusive mode');
    return async () => {
      await client.query('rollback');
      await client.end();
    };
  }
  const db = new Database(env.DATABASE_PATH!);
  db.exec('BEGIN EXCLUSIVE');
  return async () => {
    db.exec('ROLLBACK');
    db.close();
  };
}
