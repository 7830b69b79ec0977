import { and, desc, eq, gt, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { GroupCommit } from '../lib/group-commit.js';
import { once } from '../lib/once.js';
import { alerts, type AlertRow, type AlertStatus, type TokenSource } from '../db/schema.js';

type Statement = ReturnType<Db['$client']['prepare']>;

export type InsertOutcome =
  | { written: { row: AlertRow; repeated: boolean }[] }
  | { conflict: number; earlier: AlertRow };

/** Rows per `insert` statement: at 18 columns, well under SQLite's 32,766 parameters. */
const INSERT_CHUNK = 64;
const INSERT_COLUMNS = [
  'id', 'subscription_id', 'transfer', 'status', 'attempts', 'token_source', 'recipient', 'message',
  'slack_channel', 'slack_ts', 'error_code', 'error_message', 'api_key_id', 'idempotency_key',
  'payload_hash', 'created_at', 'updated_at', 'delivered_at',
] as const;

/** A row's values in INSERT_COLUMNS' order. */
function insertValues(row: AlertRow): unknown[] {
  return [
    row.id, row.subscriptionId, row.transfer, row.status, row.attempts, row.tokenSource, row.recipient,
    JSON.stringify(row.message), row.slackChannel, row.slackTs, row.errorCode, row.errorMessage,
    row.apiKeyId, row.idempotencyKey, row.payloadHash, row.createdAt, row.updatedAt, row.deliveredAt,
  ];
}

/**
 * Persistence of alert records: the durable truth of every delivery (SPEC §3). The statements of
 * the hot paths (intake, delivery) are prepared once.
 */
export class AlertStore {
  private readonly byId = once(() =>
    this.db.select().from(alerts).where(eq(alerts.id, sql.placeholder('id'))).prepare(),
  );
  private readonly byIdempotencyKey = once(() =>
    this.db
      .select()
      .from(alerts)
      .where(
        and(
          // `is` matches null too (alerts sent by the relay itself), and still uses the index
          sql`${alerts.apiKeyId} is ${sql.placeholder('apiKeyId')}`,
          eq(alerts.idempotencyKey, sql.placeholder('key')),
          gt(alerts.createdAt, sql.placeholder('since')),
        ),
      )
      .orderBy(desc(alerts.createdAt))
      .prepare(),
  );
  /** `insert … values (…), (…), …` for `n` rows, prepared once per size used. */
  private readonly insertStatements = new Map<number, Statement>();
  private readonly startPost = once(() =>
    this.db.$client.prepare(`update alerts set status = 'delivering', token_source = ?, updated_at = ? where id = ?`),
  );
  private readonly finishPost = once(() =>
    this.db.$client.prepare(
      `update alerts set status = 'delivered', slack_channel = ?, slack_ts = ?, token_source = ?, attempts = ?,
         error_code = null, error_message = null, delivered_at = ?, updated_at = ? where id = ?`,
    ),
  );
  /** Made once: better-sqlite3's transaction wrapper is costly to build. */
  private readonly insertAll = once(() =>
    this.db.$client.transaction((groups: AlertRow[][], sinceMs: number): InsertOutcome[] => {
      const fresh: AlertRow[] = [];
      // keys earlier in this same flush count as repeats too, though their rows are not yet written
      const keysInFlush = new Map<string, AlertRow>();
      const outcomes = groups.map((rows): InsertOutcome => {
        const keysInGroup = new Map<string, AlertRow>();
        const written: { row: AlertRow; repeated: boolean }[] = [];
        for (const [index, row] of rows.entries()) {
          if (row.idempotencyKey === null) {
            written.push({ row, repeated: false });
            continue;
          }
          const scopedKey = `${row.apiKeyId}\n${row.idempotencyKey}`;
          const earlier =
            keysInGroup.get(scopedKey) ??
            keysInFlush.get(scopedKey) ??
            this.byIdempotencyKey().get({ apiKeyId: row.apiKeyId, key: row.idempotencyKey, since: sinceMs });
          if (!earlier) {
            keysInGroup.set(scopedKey, row);
            written.push({ row, repeated: false });
          } else if (earlier.payloadHash === null || earlier.payloadHash === row.payloadHash) {
            written.push({ row: earlier, repeated: true });
          } else {
            // the same key with another payload: this request is refused whole, and writes nothing
            return { conflict: index, earlier };
          }
        }
        for (const [key, row] of keysInGroup) keysInFlush.set(key, row);
        for (const entry of written) if (!entry.repeated) fresh.push(entry.row);
        return { written };
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
   * write (≈ 17 → 3 µs a write here) and fewer turns at the single SQLite writer lock. Each
   * caller's promise settles once its write is committed.
   */
  private readonly deliveryWrites = new GroupCommit<() => void, void>(async (submissions) => {
    this.runWrites().immediate(submissions.flat());
    return submissions.map(() => undefined);
  });

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  private insertStatement(rows: number): Statement {
    let statement = this.insertStatements.get(rows);
    if (!statement) {
      const tuple = `(${INSERT_COLUMNS.map(() => '?').join(', ')})`;
      statement = this.db.$client.prepare(
        `insert into alerts (${INSERT_COLUMNS.join(', ')}) values ${Array.from({ length: rows }, () => tuple).join(', ')}`,
      );
      this.insertStatements.set(rows, statement);
    }
    return statement;
  }

  get(id: string): AlertRow | undefined {
    return this.byId().get({ id });
  }

  list(filter: { subscriptionId?: string; status?: AlertStatus; apiKeyId?: string; limit: number }): AlertRow[] {
    const where: SQL[] = [];
    if (filter.subscriptionId) where.push(eq(alerts.subscriptionId, filter.subscriptionId));
    if (filter.apiKeyId) where.push(eq(alerts.apiKeyId, filter.apiKeyId));
    if (filter.status) where.push(eq(alerts.status, filter.status));
    return this.db
      .select()
      .from(alerts)
      .where(and(...where))
      // ULIDs sort by creation time, and the primary key keeps them in that order
      .orderBy(...(filter.subscriptionId ? [desc(alerts.createdAt)] : []), desc(alerts.id))
      .limit(filter.limit)
      .all();
  }

  /**
   * Idempotency check and insert in one IMMEDIATE transaction, so two requests with the same key
   * (even from two web processes) cannot both insert. Each group is one request: per row, the row
   * written or the earlier record its key maps to; or, when a key comes back with another
   * payload, the index of that row, and nothing of the group is written.
   */
  insertUnlessRepeated(groups: AlertRow[][], sinceMs: number): InsertOutcome[] {
    return this.insertAll().immediate(groups, sinceMs);
  }

  /** The post is about to start: the one call that must not be repeated while it may be in flight. */
  async markDelivering(id: string, tokenSource: TokenSource): Promise<void> {
    const now = this.now();
    await this.deliveryWrites.submit([() => this.startPost().run(tokenSource, now, id)]);
  }

  /** Counts per subscription, status and error code: the source of /metrics' alert counters. */
  countsByOutcome(): { subscriptionId: string; status: AlertStatus; errorCode: string | null; count: number }[] {
    return this.db.$client
      .prepare(
        `select subscription_id as subscriptionId, status, error_code as errorCode, count(*) as count
         from alerts group by subscription_id, status, error_code`,
      )
      .all() as { subscriptionId: string; status: AlertStatus; errorCode: string | null; count: number }[];
  }

  /** Delivered alerts' latency (accepted → Slack ok): cumulative counts at each bound, sum and count. */
  latencyHistogram(boundsMs: number[]): { cumulative: number[]; sumMs: number; count: number } {
    const columns = boundsMs.map((b, i) => `sum(delivered_at - created_at <= ${Number(b)}) as b${i}`).join(', ');
    const row = this.db.$client
      .prepare(`select ${columns}, coalesce(sum(delivered_at - created_at), 0) as sumMs, count(*) as count from alerts where status = 'delivered'`)
      .get() as Record<string, number | null>;
    return { cumulative: boundsMs.map((_, i) => row[`b${i}`] ?? 0), sumMs: row.sumMs ?? 0, count: row.count ?? 0 };
  }

  /** A failed job was retried (from Bull Board): its record waits again. */
  markRetried(id: string): void {
    this.db
      .update(alerts)
      .set({ status: 'queued', updatedAt: this.now() })
      .where(and(eq(alerts.id, id), eq(alerts.status, 'failed')))
      .run();
  }

  /** Undo an intake whose queue write failed: no orphan record stays behind. */
  deleteMany(ids: string[]): void {
    if (ids.length === 0) return;
    this.db.delete(alerts).where(inArray(alerts.id, ids)).run();
  }

  setStatus(id: string, status: AlertStatus, extra: Partial<AlertRow> = {}): void {
    this.db
      .update(alerts)
      .set({ ...extra, status, updatedAt: this.now() })
      .where(eq(alerts.id, id))
      .run();
  }

  async markDelivered(
    id: string,
    result: { channel: string; ts: string; tokenSource: TokenSource; attempts: number },
  ): Promise<void> {
    const now = this.now();
    await this.deliveryWrites.submit([
      () => this.finishPost().run(result.channel, result.ts, result.tokenSource, result.attempts, now, now, id),
    ]);
  }

  markFailed(
    id: string,
    error: { code: string; message: string },
    extra: { attempts?: number; tokenSource?: TokenSource | null } = {},
  ): void {
    this.setStatus(id, 'failed', { errorCode: error.code, errorMessage: error.message, ...extra });
  }

  /** Records still waiting for delivery and untouched since `before`: candidates for the sweep. */
  waitingSince(before: number, page: { limit: number; offset: number }): AlertRow[] {
    return this.db
      .select()
      .from(alerts)
      .where(and(inArray(alerts.status, ['queued', 'retrying', 'delivering']), lt(alerts.updatedAt, before)))
      .orderBy(alerts.updatedAt, alerts.id)
      .limit(page.limit)
      .offset(page.offset)
      .all();
  }
}
