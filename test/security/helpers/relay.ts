import Database from 'better-sqlite3';
import { apiClient, type Api } from '../../helpers/api-client.js';
import { startRelayProcesses, type RelayProcesses, type RelayProcessesOptions } from '../../helpers/relay-processes.js';

/**
 * The real-process relay of `test/helpers/relay-processes.ts` with the short timeouts the
 * security suite runs under (one attempt where retries do not matter), and small conveniences.
 */

export const FAST_ENV: Record<string, string> = {
  DELIVERY_ATTEMPTS: '1',
  RETRY_BASE_MS: '50',
  SLACK_TIMEOUT_MS: '2000',
  WORKER_LOCK_MS: '2000',
  STALLED_INTERVAL_MS: '1000',
  SWEEP_INTERVAL_MS: '600000',
};

export async function startFastRelay(options: RelayProcessesOptions): Promise<RelayProcesses> {
  return startRelayProcesses({ ...options, env: { ...FAST_ENV, ...options.env } });
}

/** An API client for the relay under another bearer key (an intake key, say). */
export const apiAs = (relay: { url: string }, key: string, baseUrl?: string): Api => apiClient(() => baseUrl ?? relay.url, key);

/** Every alert record the admin can see (at most 1,000). */
export async function recordCount(api: Api): Promise<number> {
  const res = await api('GET', '/api/v1/alerts?limit=1000');
  if (res.status !== 200) throw new Error(`list alerts: ${res.status} ${res.text}`);
  return res.body.alerts.length as number;
}

/** A read-only look into the relay's SQLite file. */
export function readDb<T>(path: string, read: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

export const basicAuth = (password: string) => `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;

/** Every captured stdout/stderr of the relay's processes. */
export const allOutput = (relay: RelayProcesses) => relay.dump();

export async function pollUntil<T>(check: () => Promise<T> | T, timeoutMs: number, what: string): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs every cleanup, in order, even when one of them throws (so no process is left behind). */
export async function closeAll(...closers: (() => unknown)[]): Promise<void> {
  const errors: unknown[] = [];
  for (const close of closers) {
    try {
      await close();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw errors[0];
}
