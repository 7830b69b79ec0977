import { and, desc, eq, gt, inArray, lt, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { alerts, type AlertRow, type AlertStatus, type TokenSource } from '../db/schema.js';

/** Persistence of alert records: the durable truth of every delivery (SPEC §3). */
export class AlertStore {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  get(id: string): AlertRow | undefined {
    return this.db.select().from(alerts).where(eq(alerts.id, id)).get();
  }

  list(filter: { subscriptionId?: string; status?: AlertStatus; limit: number }): AlertRow[] {
    const where: SQL[] = [];
    if (filter.subscriptionId) where.push(eq(alerts.subscriptionId, filter.subscriptionId));
    if (filter.status) where.push(eq(alerts.status, filter.status));
    return this.db
      .select()
      .from(alerts)
      .where(and(...where))
      .orderBy(desc(alerts.createdAt), desc(alerts.id))
      .limit(filter.limit)
      .all();
  }

  /**
   * Idempotency check and insert in one IMMEDIATE transaction, so two requests with the same key
   * (even from two web processes) cannot both insert. Returns, per row, the row written or the
   * earlier record its key maps to.
   */
  insertUnlessRepeated(
    rows: AlertRow[],
    sinceMs: number,
  ): { row: AlertRow; repeated: boolean }[] {
    const run = this.db.$client.transaction(() =>
      rows.map((row) => {
        if (row.idempotencyKey !== null) {
          const earlier = this.findByIdempotencyKey(row.apiKeyId, row.idempotencyKey, sinceMs);
          if (earlier) return { row: earlier, repeated: true };
        }
        this.db.insert(alerts).values(row).run();
        return { row, repeated: false };
      }),
    );
    return run.immediate();
  }

  private findByIdempotencyKey(apiKeyId: string | null, key: string, sinceMs: number): AlertRow | undefined {
    return this.db
      .select()
      .from(alerts)
      .where(
        and(
          apiKeyId === null ? undefined : eq(alerts.apiKeyId, apiKeyId),
          eq(alerts.idempotencyKey, key),
          gt(alerts.createdAt, sinceMs),
        ),
      )
      .orderBy(desc(alerts.createdAt))
      .get();
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

  markDelivered(
    id: string,
    result: { channel: string; ts: string; tokenSource: TokenSource; attempts: number },
  ): void {
    const now = this.now();
    this.setStatus(id, 'delivered', {
      slackChannel: result.channel,
      slackTs: result.ts,
      tokenSource: result.tokenSource,
      attempts: result.attempts,
      errorCode: null,
      errorMessage: null,
      deliveredAt: now,
    });
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
