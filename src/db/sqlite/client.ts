import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import * as schema from './schema.js';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

/**
 * One SQLite file shared by the web process and every worker process: WAL lets readers and the
 * single writer proceed together, and the busy timeout makes a writer wait for the lock instead of
 * failing at once. A write that still cannot get the lock surfaces as SQLITE_BUSY and becomes 503.
 */
export function createDb(path: string, { busyTimeoutMs = 5000 } = {}): Db {
  if (path !== ':memory:') {
    // records and sealed tokens: readable by the relay's user only (SQLite gives -wal and -shm the file's mode)
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600); // a file made by an earlier release may still be 0644
  }
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`busy_timeout = ${busyTimeoutMs}`);
  // NORMAL is durable across process crashes in WAL mode; only an OS crash may lose the last commit.
  sqlite.pragma('synchronous = NORMAL');
  return drizzle({ client: sqlite, schema, casing: 'snake_case' }) as Db;
}
