import pg from 'pg';
import { DatabaseUnavailableError, NameTakenError } from '../stores.js';

const { Pool, types } = pg;
export type PgPool = InstanceType<typeof Pool>;

/**
 * How long a process waits for PostgreSQL: the web answers 503 within a second (docs/contract.md §5).
 * A statement is cancelled by the server after `statementMs`, so a write that timed out is not
 * carried out later (a record nobody was told about); `queryMs`, a little longer, is the client's
 * own limit for a server that does not answer at all.
 */
export interface PoolTimeouts {
  connectMs: number;
  statementMs: number;
  queryMs: number;
  max: number;
}

export const WEB_TIMEOUTS: PoolTimeouts = { connectMs: 400, statementMs: 650, queryMs: 850, max: 10 };
export const WORKER_TIMEOUTS: PoolTimeouts = { connectMs: 5000, statementMs: 10_000, queryMs: 15_000, max: 10 };

// bigint columns hold epoch milliseconds, well inside a double: read them as numbers
const INT8 = 20;
const typeParsers = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? (value: string) => Number(value) : types.getTypeParser(oid, format as 'text'),
};

export function createPool(url: string, timeouts: PoolTimeouts): PgPool {
  const pool = new Pool({
    connectionString: url,
    max: timeouts.max,
    connectionTimeoutMillis: timeouts.connectMs,
    statement_timeout: timeouts.statementMs,
    query_timeout: timeouts.queryMs,
    idleTimeoutMillis: 30_000,
    types: typeParsers,
  });
  // a connection that breaks while idle (PostgreSQL restarted) is dropped and replaced; not fatal
  pool.on('error', () => {});
  return pool;
}

/** Connection-class errors: the database is down, restarting, refusing or too slow to answer. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
  '57014', '55P03', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', '53300', '53400', '40001', '40P01',
]);
const UNAVAILABLE_MESSAGES = /timeout exceeded when trying to connect|Query read timeout|Connection terminated|Client has encountered a connection error|Cannot use a pool after calling end/;

/** PostgreSQL's error codes stop here: a database that cannot answer is "unavailable" (503), a taken name is NameTakenError. */
export function translatePgError(error: unknown): unknown {
  // drizzle wraps the driver's error (DrizzleQueryError) with it as the cause
  const e = ((error as { cause?: unknown })?.cause && !(error as { code?: unknown }).code ? (error as { cause: unknown }).cause : error) as {
    code?: string;
    constraint?: string;
    message?: string;
  };
  if (e?.code === '23505' && e.constraint === 'subscriptions_name_key_unique') {
    return new NameTakenError('A subscription with this name already exists.');
  }
  if ((e?.code && UNAVAILABLE_CODES.has(e.code)) || UNAVAILABLE_MESSAGES.test(e?.message ?? '')) {
    return new DatabaseUnavailableError('The database cannot answer right now; try again shortly.');
  }
  return error;
}

/**
 * One client of the pool for several statements (a transaction). pg-pool stops listening for a
 * checked-out client's errors, so a connection that breaks between two statements (PostgreSQL
 * killed) would be an unhandled 'error' event, fatal to the process: listen while it is out, and
 * hand a broken client back to be destroyed rather than reused.
 */
export async function withClient<T>(pool: PgPool, run: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  try {
    return await run(client);
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

export async function pgGuarded<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw translatePgError(error);
  }
}
