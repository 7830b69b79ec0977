import { isStorable, type AlertStatus } from '../../domain.js';
import { GroupCommit } from '../../lib/group-commit.js';
import { planInserts } from '../insert-plan.js';
import type { AlertRow } from '../rows.js';
import type { AlertFilter, AlertStore, InsertOutcome, StatusChange } from '../stores.js';
import { pgGuarded, withClient, type PgPool } from './pool.js';

type RawAlert = Record<string, unknown>;

function toAlertRow(raw: RawAlert): AlertRow {
  return {
    id: raw.id as string,
    subscriptionId: raw.subscription_id as string,
    transfer: raw.transfer as AlertRow['transfer'],
    status: raw.status as AlertStatus,
    attempts: Number(raw.attempts),
    tokenSource: raw.token_source as AlertRow['tokenSource'],
    recipient: raw.recipient as string,
    message: raw.message as AlertRow['message'],
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
    coalesced: raw.coalesced === true,
    createdAt: Number(raw.created_at),
    updatedAt: Number(raw.updated_at),
    deliveredAt: raw.delivered_at === null ? null : Number(raw.delivered_at),
  };
}

/** Every column, with its array type for `unnest`: many rows in one statement, one parameter a column. */
const COLUMNS: [string, string, (row: AlertRow) => unknown][] = [
  ['id', 'text', (r) => r.id],
  ['subscription_id', 'text', (r) => r.subscriptionId],
  ['transfer', 'text', (r) => r.transfer],
  ['status', 'text', (r) => r.status],
  ['attempts', 'int4', (r) => r.attempts],
  ['token_source', 'text', (r) => r.tokenSource],
  ['recipient', 'text', (r) => r.recipient],
  ['message', 'jsonb', (r) => JSON.stringify(r.message)],
  ['slack_channel', 'text', (r) => r.slackChannel],
  ['slack_ts', 'text', (r) => r.slackTs],
  ['error_code', 'text', (r) => r.errorCode],
  ['error_message', 'text', (r) => r.errorMessage],
  ['api_key_id', 'text', (r) => r.apiKeyId],
  ['idempotency_key', 'text', (r) => r.idempotencyKey],
  ['payload_hash', 'text', (r) => r.payloadHash],
  ['dedup_key', 'text', (r) => r.dedupKey],
  ['event', 'text', (r) => r.event],
  ['reply_ts', 'text', (r) => r.replyTs],
  ['coalesced', 'bool', (r) => r.coalesced],
  ['created_at', 'int8', (r) => r.createdAt],
  ['updated_at', 'int8', (r) => r.updatedAt],
  ['delivered_at', 'int8', (r) => r.deliveredAt],
];
const INSERT = `insert into alerts (${COLUMNS.map(([name]) => name).join(', ')})
  select * from unnest(${COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})`;

/**
 * Each status change as one statement for many records (`update … from unnest(…)`): the writes of
 * concurrent deliveries share one statement and one commit, as SQLite's share one transaction.
 */
const TRANSITIONS: Record<StatusChange['status'], { set: string; values: [string, (c: StatusChange) => unknown][] }> = {
  queued: { set: `status = 'queued', updated_at = v.now`, values: [] },
  delivering: { set: `status = 'delivering', token_source = v.token_source, updated_at = v.now`, values: [['token_source', (c) => (c as { tokenSource: string }).tokenSource]] },
  delivered: {
    set: `status = 'delivered', slack_channel = v.channel, slack_ts = v.ts, token_source = v.token_source, attempts = v.attempts,
          coalesced = v.coalesced, error_code = null, error_message = null, delivered_at = v.now, updated_at = v.now`,
    values: [
      ['channel', (c) => (c as { channel: string }).channel],
      ['ts', (c) => (c as { ts: string }).ts],
      ['token_source', (c) => (c as { tokenSource: string }).tokenSource],
      ['attempts:int4', (c) => (c as { attempts: number }).attempts],
      ['coalesced:bool', (c) => (c as { coalesced?: boolean }).coalesced ?? false],
    ],
  },
  suppressed: {
    set: `status = 'suppressed', error_code = v.error_code, error_message = v.error_message, updated_at = v.now`,
    values: [
      ['error_code', (c) => (c as { error: { code: string } }).error.code],
      ['error_message', (c) => (c as { error: { message: string } }).error.message],
    ],
  },
  retrying: {
    set: `status = 'retrying', attempts = v.attempts, error_code = v.error_code, error_message = v.error_message, updated_at = v.now`,
    values: [
      ['attempts:int4', (c) => (c as { attempts: number }).attempts],
      ['error_code', (c) => (c as { error: { code: string } }).error.code],
      ['error_message', (c) => (c as { error: { message: string } }).error.message],
    ],
  },
  failed: {
    set: `status = 'failed', error_code = v.error_code, error_message = v.error_message, attempts = coalesce(v.attempts, a.attempts),
          token_source = coalesce(v.token_source, a.token_source), updated_at = v.now`,
    values: [
      ['error_code', (c) => (c as { error: { code: string } }).error.code],
      ['error_message', (c) => (c as { error: { message: string } }).error.message],
      ['attempts:int4', (c) => (c as { attempts?: number }).attempts ?? null],
      ['token_source', (c) => (c as { tokenSource?: string | null }).tokenSource ?? null],
    ],
  },
};

interface Transition {
  id: string;
  from: readonly AlertStatus[];
  change: StatusChange;
  now: number;
}

/** Alert records on PostgreSQL. */
export class PostgresAlertStore implements AlertStore {
  private readonly transitions = new GroupCommit<Transition, AlertRow | undefined>((submissions) => this.runTransitions(submissions.flat()));

  constructor(private readonly pool: PgPool) {}

  async get(id: string): Promise<AlertRow | undefined> {
    if (!isStorable(id)) return undefined; // no stored id holds a NUL or a lone surrogate
    const { rows } = await pgGuarded(() => this.pool.query({ name: 'alert_by_id', text: 'select * from alerts where id = $1', values: [id] }));
    return rows[0] ? toAlertRow(rows[0]) : undefined;
  }

  async list(filter: AlertFilter): Promise<AlertRow[]> {
    if ([filter.subscriptionId, filter.apiKeyId].some((value) => value !== undefined && !isStorable(value))) return [];
    const where: string[] = [];
    const values: unknown[] = [];
    const condition = (column: string, value: unknown) => {
      values.push(value);
      where.push(`${column} = $${values.length}`);
    };
    if (filter.subscriptionId) condition('subscription_id', filter.subscriptionId);
    if (filter.status) condition('status', filter.status);
    if (filter.apiKeyId) condition('api_key_id', filter.apiKeyId);
    values.push(filter.limit);
    const order = filter.subscriptionId ? 'created_at desc, id desc' : 'id desc';
    const text = `select * from alerts ${where.length ? `where ${where.join(' and ')}` : ''} order by ${order} limit $${values.length}`;
    const { rows } = await pgGuarded(() => this.pool.query(text, values));
    return rows.map(toAlertRow);
  }

  /**
   * One transaction for a flush of intake requests. With idempotency keys, each key is locked first
   * (an advisory lock per API key and key, in a fixed order), so that two web processes sending one
   * key cannot both insert; then the earlier records of those keys are read in one statement, and
   * every fresh row is inserted in one more.
   */
  async insertUnlessRepeated(groups: AlertRow[][], sinceMs: number): Promise<InsertOutcome[]> {
    const keyed = groups.flat().filter((row) => row.idempotencyKey !== null);
    if (keyed.length === 0) {
      const { outcomes, fresh } = planInserts(groups, () => undefined);
      await this.insert(this.pool, fresh);
      return outcomes;
    }
    return pgGuarded(() => withClient(this.pool, async (client) => {
      try {
        await client.query('begin');
        const scoped = [...new Set(keyed.map((row) => `${row.apiKeyId ?? ''}\n${row.idempotencyKey}`))].sort();
        await client.query('select pg_advisory_xact_lock(hashtextextended(k, 0)) from unnest($1::text[]) as k order by k', [scoped]);
        const { rows } = await client.query(
          `select * from alerts
            where (coalesce(api_key_id, ''), idempotency_key) in (select * from unnest($1::text[], $2::text[]))
              and idempotency_key is not null and created_at > $3
            order by created_at`,
          [scoped.map((k) => k.slice(0, k.indexOf('\n'))), scoped.map((k) => k.slice(k.indexOf('\n') + 1)), sinceMs],
        );
        const earlier = new Map<string, AlertRow>();
        for (const raw of rows) {
          const row = toAlertRow(raw);
          earlier.set(`${row.apiKeyId ?? ''}\n${row.idempotencyKey}`, row); // newest last, so newest wins
        }
        const { outcomes, fresh } = planInserts(groups, (apiKeyId, key) => earlier.get(`${apiKeyId ?? ''}\n${key}`));
        await this.insert(client, fresh);
        await client.query('commit');
        return outcomes;
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      }
    }));
  }

  async deleteMany(ids: string[]): Promise<void> {
    ids = ids.filter(isStorable);
    if (ids.length === 0) return;
    await pgGuarded(() => this.pool.query('delete from alerts where id = any($1::text[])', [ids]));
  }

  async transition(id: string, from: readonly AlertStatus[], change: StatusChange, now: number): Promise<AlertRow | undefined> {
    if (!isStorable(id)) return undefined;
    return this.transitions.submit([{ id, from, change, now }]);
  }

  async recordReply(id: string, replyTs: string, now: number): Promise<void> {
    if (!isStorable(id)) return;
    await pgGuarded(() => this.pool.query({ name: 'alert_reply', text: 'update alerts set reply_ts = $2, updated_at = $3 where id = $1', values: [id, replyTs, now] }));
  }

  async earlierOfKeyWaiting(record: Pick<AlertRow, 'id' | 'subscriptionId' | 'recipient' | 'dedupKey'>): Promise<boolean> {
    if (record.dedupKey === null) return false;
    const { rows } = await pgGuarded(() =>
      this.pool.query({
        name: 'alert_earlier_of_key',
        text: `select 1 from alerts where subscription_id = $1 and dedup_key = $2 and id < $3 and recipient = $4
                 and status in ('queued', 'retrying', 'delivering') limit 1`,
        values: [record.subscriptionId, record.dedupKey, record.id, record.recipient],
      }),
    );
    return rows.length > 0;
  }

  async waitingSince(before: number, page: { limit: number; offset: number }): Promise<AlertRow[]> {
    const { rows } = await pgGuarded(() =>
      this.pool.query(
        `select * from alerts where status in ('queued', 'retrying', 'delivering') and updated_at < $1
         order by updated_at, id limit $2 offset $3`,
        [before, page.limit, page.offset],
      ),
    );
    return rows.map(toAlertRow);
  }

  async countsByOutcome() {
    const { rows } = await pgGuarded(() =>
      this.pool.query(
        `select subscription_id as "subscriptionId", status, error_code as "errorCode", count(*)::int as count
         from alerts group by subscription_id, status, error_code`,
      ),
    );
    return rows as { subscriptionId: string; status: AlertStatus; errorCode: string | null; count: number }[];
  }

  async latencyHistogram(boundsMs: number[]) {
    const columns = boundsMs.map((b, i) => `count(*) filter (where delivered_at - created_at <= ${Number(b)})::int as b${i}`).join(', ');
    const { rows } = await pgGuarded(() =>
      this.pool.query(
        `select ${columns}, coalesce(sum(delivered_at - created_at), 0)::float8 as "sumMs", count(*)::int as count from alerts where status = 'delivered'`,
      ),
    );
    const row = rows[0] as Record<string, number>;
    return { cumulative: boundsMs.map((_, i) => row[`b${i}`] ?? 0), sumMs: row.sumMs ?? 0, count: row.count ?? 0 };
  }

  private async insert(client: Pick<PgPool, 'query'>, rows: AlertRow[]): Promise<void> {
    if (rows.length === 0) return;
    await pgGuarded(() => client.query({ name: 'alerts_insert', text: INSERT, values: COLUMNS.map(([, , value]) => rows.map(value)) }));
  }

  /** A flush of transitions: one statement per kind of change and set of states it may leave. */
  private async runTransitions(items: Transition[]): Promise<(AlertRow | undefined)[]> {
    const groups = new Map<string, Transition[]>();
    for (const item of items) {
      const key = `${item.change.status}|${item.from.join(',')}`;
      const group = groups.get(key);
      if (group) group.push(item);
      else groups.set(key, [item]);
    }
    // each submission is answered by its own statement: what that statement moved, once per record
    const moved = new Map<Transition, AlertRow>();
    await Promise.all(
      [...groups.values()].map(async (group) => {
        const rows = new Map((await this.transitionGroup(group)).map((row) => [row.id, row]));
        for (const item of group) {
          const row = rows.get(item.id);
          if (row) moved.set(item, row);
          rows.delete(item.id);
        }
      }),
    );
    return items.map((item) => moved.get(item));
  }

  private async transitionGroup(group: Transition[]): Promise<AlertRow[]> {
    const { status } = group[0]!.change;
    const { set, values } = TRANSITIONS[status];
    const columns = [['id', 'text'], ['now', 'int8'], ...values.map(([name]) => (name.includes(':') ? name.split(':') : [name, 'text']))] as [string, string][];
    const params = [group.map((t) => t.id), group.map((t) => t.now), ...values.map(([, value]) => group.map((t) => value(t.change)))];
    const from = params.length + 1;
    const text = `update alerts a set ${set}
      from unnest(${columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')}) as v(${columns.map(([name]) => name).join(', ')})
      where a.id = v.id and a.status = any($${from}::text[])
      returning a.*`;
    const { rows } = await pgGuarded(() => this.pool.query({ name: `alerts_${status}_${group[0]!.from.join('_')}`, text, values: [...params, group[0]!.from] }));
    return rows.map(toAlertRow);
  }
}
