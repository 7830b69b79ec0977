import Database from 'better-sqlite3';
import pg from 'pg';
import { loadConfig } from '../config.js';
import { runMain } from '../lib/run-main.js';
import { migratePostgres } from './postgres/index.js';

/**
 * `npm run db:copy -- --from ./data/relay.db --to postgres://…`: moves a relay from SQLite to
 * PostgreSQL. It applies the PostgreSQL migrations, then copies every subscription, OAuth
 * installation, pending OAuth state, alert record and open condition (its message), in batches, as they are: tokens stay sealed
 * (the same ENCRYPTION_KEY opens them on the new database), ids and timestamps are kept, and rows
 * that are already there are left alone, so a copy that was interrupted can be run again. Stop
 * the relay's web and worker processes first; afterwards set DATABASE_URL and start them again.
 * Defaults: --from DATABASE_PATH, --to DATABASE_URL.
 */

const TABLES = [
  { name: 'subscriptions', key: 'id', json: ['throttle', 'last_sync'], booleans: ['reauth_required'] },
  { name: 'oauth_installations', key: 'subscription_id', json: [], booleans: [] },
  { name: 'oauth_states', key: 'state_digest', json: ['install_options'], booleans: [] },
  { name: 'alerts', key: 'id', json: ['message'], booleans: ['coalesced'] },
  { name: 'slack_messages', key: 'id', json: ['entries'], booleans: [] },
  { name: 'open_keys', key: 'subscription_id, recipient, dedup_key', json: [], booleans: [] },
] as const;
const BATCH = 500;

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

export async function copySqliteToPostgres(from: string, to: string, say: (line: string) => void = () => {}): Promise<Record<string, number>> {
  await migratePostgres(to);
  const sqlite = new Database(from, { readonly: true, fileMustExist: true });
  const client = new pg.Client({ connectionString: to });
  await client.connect();
  const copied: Record<string, number> = {};
  try {
    for (const table of TABLES) {
      const total = (sqlite.prepare(`select count(*) as n from ${table.name}`).get() as { n: number }).n;
      const rows = sqlite.prepare(`select * from ${table.name} order by ${table.key}`).iterate() as IterableIterator<Record<string, unknown>>;
      let batch: Record<string, unknown>[] = [];
      let done = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        const columns = Object.keys(batch[0]!);
        const values: unknown[] = [];
        const tuples = batch.map((row) => `(${columns.map((column) => {
          values.push(convert(table, column, row[column]));
          return `$${values.length}`;
        }).join(', ')})`);
        await client.query(`insert into ${table.name} (${columns.join(', ')}) values ${tuples.join(', ')} on conflict (${table.key}) do nothing`, values);
        done += batch.length;
        batch = [];
        say(`${table.name}: ${done} / ${total}`);
      };
      await client.query('begin');
      for (const row of rows) {
        batch.push(row);
        if (batch.length >= BATCH) await flush();
      }
      await flush();
      await client.query('commit');
      copied[table.name] = total;
    }
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    sqlite.close();
    await client.end();
  }
  return copied;
}

/** SQLite keeps JSON as text and booleans as 0/1; PostgreSQL has jsonb and boolean. */
function convert(table: (typeof TABLES)[number], column: string, value: unknown): unknown {
  if (value === null) return null;
  if ((table.booleans as readonly string[]).includes(column)) return value === 1 || value === true;
  if ((table.json as readonly string[]).includes(column)) return typeof value === 'string' ? value : JSON.stringify(value);
  return value;
}

runMain(import.meta.url, async () => {
  const config = loadConfig();
  const from = option('from') ?? config.databasePath;
  const to = option('to') ?? config.databaseUrl;
  if (!to) throw new Error('Name the PostgreSQL database: --to postgres://… (or set DATABASE_URL).');
  const say = (line: string) => process.stdout.write(`db:copy | ${line}\n`);
  say(`copying ${from} → ${to.replace(/\/\/([^@/]*)@/, '//***@')}`);
  const copied = await copySqliteToPostgres(from, to, say);
  say(`done: ${Object.entries(copied).map(([table, n]) => `${n} ${table}`).join(', ')}. Set DATABASE_URL and start the relay.`);
  process.exit(0);
});
