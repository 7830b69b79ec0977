import type Database from 'better-sqlite3';
import type { AlertStatus } from '../../domain.js';
import { GroupCommit } from '../../lib/group-commit.js';
import { once } from '../../lib/once.js';
import { planInserts } from '../insert-plan.js';
import type { AlertRow } from '../rows.js';
import type { AlertFilter, AlertStore, InsertOutcome, StatusChange } from '../stores.js';
import type { Db } from './client.js';
import { guarded, guardedAsync } from './errors.js';

type Statement = Database.Statement<unknown[], unknown>;

/** Rows per `insert` statement: at 22 columns, well under SQLite's 32,766 parameters. */
const INSERT_CHUNK = 64;
const COLUMNS = [
  'id', 'subscription_id', 'transfer', 'status', 'attempts', 'token_source', 'recipient', 'message',
  'slack_channel', 'slack_ts', 'error_code', 'error_message', 'api_key_id', 'idempotency_key',
  'payload_hash', 'dedup_key', 'event', 'reply_ts', 'coalesced', 'created_at', 'updated_at', 'delivered_at',
] as const;

/** A row's values in COLUMNS' order. */
function insertValues(row: AlertRow): unknown[] {
  return [
    row.id, row.subscriptionId, row.transfer, row.status, row.attempts, row.tokenSource, row.recipient,
    JSON.stringify(row.message), row.slackChannel, row.slackTs, row.errorCode, row.errorMessage,
    row.apiKeyId, row.idempotencyKey, row.payloadHash, row.dedupKey, row.event, row.replyTs, row.coalesced ? 1 : 0,
    row.createdAt, row.updatedAt, row.deliveredAt,
  ];
}

type RawAlert = Record<(typeof COLUMNS)[number], unknown>;

export function toAlertRow(raw: RawAlert): AlertRow {
  return {
    id: raw.id as string,
    subscriptionId: raw.subscription_id as string,
    transfer: raw.transfer as AlertRow['transfer'],
    status: raw.status as AlertStatus,
    attempts: Number(raw.attempts),
    tokenSource: raw.token_source as AlertRow['tokenSource'],
    recipient: raw.recipient as string,
    message: JSON.parse(raw.message as string) as AlertRow['message'],
    slackChannel: raw.slack_channel as string | null,
    slackTs: raw.slack_ts as string | null,
    errorCode: raw.error_code as string | null,
    errorMessage: raw.error_message as string | null,
    apiKeyId: raw.api_key_id as string | null,
    idempotencyKey: raw.idempotency_key as string | null,
    payloadHash: raw.payload_hash as string | null,
    dedupKey: raw.dedup_key as string | null,
    event: raw.event as AlertRow['event'],
    replyTs: raw.reply_ts as string | null,
    coalesced: raw.coalesced === 1,
    createdAt: Number(raw.created_at),
    updatedAt: Number(raw.updated_at),
    deliveredAt: raw.delivered_at === null ? null : Number(raw.delivered_at),
  };
}

/** The SET clause and values of each status change (docs/contract.md §3's record). */
function setClause(change: StatusChange, now: number): { sql: string; values: unknown[] } {
  switch (change.status) {
    case 'queued':
      return { sql: `status = 'queued', updated_at = ?`, values: [now] };
    case 'delivering':
      return { sql: `status = 'delivering', token_source = ?, updated_at = ?`, values: [change.tokenSource, now] };
    case 'delivered':
      return {
        sql: `status = 'delivered', slack_channel = ?, slack_ts = ?, token_source = ?, attempts = ?, coalesced = ?,
              error_code = null, error_message = null, delivered_at = ?, updated_at = ?`,
        values: [change.channel, change.ts, change.tokenSource, change.attempts, change.coalesced ? 1 : 0, now, now],
      };
    case 'suppressed':
      return {
        sql: `status = 'suppressed', error_code = ?, error_message = ?, updated_at = ?`,
        values: [change.error.code, change.error.message, now],
      };
    case 'retrying':
      return {
        sql: `status = 'retrying', attempts = ?, error_code = ?, error_message = ?, updated_at = ?`,
        values: [change.attempts, change.error.code, change.error.message, now],
      };
    case 'failed':
      return {
        sql: `status = 'failed', error_code = ?, error_message = ?, attempts = coalesce(?, attempts),
              token_source = coalesce(?, token_source), updated_at = ?`,
        values: [change.error.code, change.error.message, change.attempts ?? null, change.tokenSource ?? null, now],
      };
  }
}

/**
 * Alert records on SQLite: the durable truth of every delivery. The statements of the hot paths
 * (intake, delivery) are prepared once; concurrent writes are group-committed.
 */
export class SqliteAlertStore implements AlertStore {
  private readonly byId = once(() => this.db.$client.prepare<[string], RawAlert>('select * from alerts where id = ?'));
  private readonly byIdempotencyKey = once(() =>
    this.db.$client.prepare<[string | null, string, number], RawAlert>(
      // `is` matches null too (alerts sent by the relay itself), and still uses the index
      'select * from alerts where api_key_id is ? and idempotency_key = ? and created_at > ? order by created_at desc limit 1',
    ),
  );
  private readonly earlierWaiting = once(() =>
    this.db.$client.prepare<[string, string, string, string], { id: string }>(
      `select id from alerts where subscription_id = ? and dedup_key = ? and id < ? and recipient = ?
         and status in ('queued', 'retrying', 'delivering') limit 1`,
    ),
  );
  /** `insert … values (…), (…), …` for `n` rows, prepared once per size used. */
  private readonly insertStatements = new Map<number, Statement>();
  /** `update … returning *` per change and from-set, prepared once each. */
  private readonly transitions = new Map<string, Statement>();
  /** Made once: better-sqlite3's transaction wrapper is costly to build. */
  private readonly insertAll = once(() =>
    this.db.$client.transaction((groups: AlertRow[][], sinceMs: number): InsertOutcome[] => {
      const { outcomes, fresh } = planInserts(groups, (apiKeyId, key) => {
        const raw = this.byIdempotencyKey().get(apiKeyId, key, sinceMs);
        return raw ? toAlertRow(raw) : undefined;
      });
      for (let start = 0; start < fresh.length; start += INSERT_CHUNK) {
        const chunk = fresh.slice(start, start + INSERT_CHUNK);
        this.insertStatement(chunk.length).run(chunk.flatMap(insertValues));
      }
      return outcomes;
    }),
  );
  private readonly runWrites = once(() =>
    this.db.$client.transaction((writes: (() => void)[]) => {
      for (const write of writes) write();
    }),
  );
  /**
   * The two writes of every delivery (`delivering` before the post, `delivered` after) of
   * concurrent jobs share one transaction, as intake's inserts do: one commit instead of one per
   * write, and fewer turns at the single SQLite writer lock (BENCHMARKS.md). Each caller's
   * promise settles once its write is committed.
   */
  private readonly deliveryWrites = new GroupCommit<() => void, void>(async (submissions) => {
    this.runWrites().immediate(submissions.flat());
    return submissions.map(() => undefined);
  });

  constructor(private readonly db: Db) {}

  async get(id: string): Promise<AlertRow | undefined> {
    return guarded(() => {
      const raw = this.byId().get(id);
      return raw ? toAlertRow(raw) : undefined;
    });
  }

  async list(filter: AlertFilter): Promise<AlertRow[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const condition = (column: string, value: unknown) => {
      where.push(`${column} = ?`);
      values.push(value);
    };
    if (filter.subscriptionId) condition('subscription_id', filter.subscriptionId);
    if (filter.status) condition('status', filter.status);
    if (filter.apiKeyId) condition('api_key_id', filter.apiKeyId);
    // ULIDs sort by creation time, and the primary key keeps them in that order
    const order = filter.subscriptionId ? 'created_at desc, id desc' : 'id desc';
    const sql = `select * from alerts ${where.length ? `where ${where.join(' and ')}` : ''} order by ${order} limit ?`;
    return guarded(() => (this.db.$client.prepare(sql).all(...values, filter.limit) as RawAlert[]).map(toAlertRow));
  }

  async insertUnlessRepeated(groups: AlertRow[][], sinceMs: number): Promise<InsertOutcome[]> {
    return guarded(() => this.insertAll().immediate(groups, sinceMs));
  }

  async deleteMany(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    guarded(() => this.db.$client.prepare(`delete from alerts where id in (${ids.map(() => '?').join(', ')})`).run(...ids));
  }

  async transition(id: string, from: readonly AlertStatus[], change: StatusChange, now: number): Promise<AlertRow | undefined> {
    const { sql, values } = setClause(change, now);
    const statement = this.transitionStatement(change.status, from, sql);
    const params: unknown[] = [...values, id, ...from];
    const write = () => statement.get(...params) as RawAlert | undefined;
    if (change.status !== 'delivering' && change.status !== 'delivered') {
      const raw = guarded(write);
      return raw ? toAlertRow(raw) : undefined;
    }
    let raw: RawAlert | undefined;
    await guardedAsync(() => this.deliveryWrites.submit([() => (raw = write())]));
    return raw ? toAlertRow(raw) : undefined;
  }

  async recordReply(id: string, replyTs: string, now: number): Promise<void> {
    guarded(() => this.db.$client.prepare('update alerts set reply_ts = ?, updated_at = ? where id = ?').run(replyTs, now, id));
  }

  async earlierOfKeyWaiting(record: Pick<AlertRow, 'id' | 'subscriptionId' | 'recipient' | 'dedupKey'>): Promise<boolean> {
    if (record.dedupKey === null) return false;
    const row = guarded(() =>
      this.earlierWaiting().get(record.subscriptionId, record.dedupKey!, record.id, record.recipient),
    );
    return row !== undefined;
  }

  async waitingSince(before: number, page: { limit: number; offset: number }): Promise<AlertRow[]> {
    return guarded(() =>
      (
        this.db.$client
          .prepare(
            `select * from alerts where status in ('queued', 'retrying', 'delivering') and updated_at < ?
             order by updated_at, id limit ? offset ?`,
          )
          .all(before, page.limit, page.offset) as RawAlert[]
      ).map(toAlertRow),
    );
  }

  async countsByOutcome() {
    return guarded(
      () =>
        this.db.$client
          .prepare(
            `select subscription_id as subscriptionId, status, error_code as errorCode, count(*) as count
             from alerts group by subscription_id, status, error_code`,
          )
          .all() as { subscriptionId: string; status: AlertStatus; errorCode: string | null; count: number }[],
    );
  }

  async latencyHistogram(boundsMs: number[]) {
    const columns = boundsMs.map((b, i) => `sum(delivered_at - created_at <= ${Number(b)}) as b${i}`).join(', ');
    const row = guarded(
      () =>
        this.db.$client
          .prepare(
            `select ${columns}, coalesce(sum(delivered_at - created_at), 0) as sumMs, count(*) as count from alerts where status = 'delivered'`,
          )
          .get() as Record<string, number | null>,
    );
    return { cumulative: boundsMs.map((_, i) => row[`b${i}`] ?? 0), sumMs: row.sumMs ?? 0, count: row.count ?? 0 };
  }

  private insertStatement(rows: number): Statement {
    let statement = this.insertStatements.get(rows);
    if (!statement) {
      const tuple = `(${COLUMNS.map(() => '?').join(', ')})`;
      statement = this.db.$client.prepare(
        `insert into alerts (${COLUMNS.join(', ')}) values ${Array.from({ length: rows }, () => tuple).join(', ')}`,
      );
      this.insertStatements.set(rows, statement);
    }
    return statement;
  }

  private transitionStatement(status: string, from: readonly AlertStatus[], set: string): Statement {
    const key = `${status}|${from.join(',')}`;
    let statement = this.transitions.get(key);
    if (!statement) {
      statement = this.db.$client.prepare(
        `update alerts set ${set} where id = ? and status in (${from.map(() => '?').join(', ')}) returning *`,
      );
      this.transitions.set(key, statement);
    }
    return statement;
  }
}
