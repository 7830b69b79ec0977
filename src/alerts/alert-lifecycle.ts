import type { AlertStatus, TokenSource } from '../domain.js';
import type { AlertRow } from '../db/rows.js';
import type { AlertStore, StatusChange } from '../db/stores.js';

/**
 * The record's state machine (docs/contract.md §3), with its one owner: only these named
 * transitions exist, each from the states it may leave. What a final outcome changes elsewhere
 * (the manual sync's `lastSync`, "Re-authorization required") hangs off one hook; metrics are
 * counted from the records themselves.
 *
 *
 *   transition  from                           to
 *   waiting     queued, retrying, delivering   queued      (a rate limit, a concurrency slot, an earlier post)
 *   delivering  queued, retrying, delivering   delivering  (just before the post)
 *   delivered   delivering                     delivered   (final)
 *   retrying    queued, retrying, delivering   retrying    (a transient failure, attempts left)
 *   interrupted delivering                     retrying    (the attempt failed outside delivery: a crash, a database error)
 *   failed      queued, retrying, delivering   failed      (final)
 *   retried     failed                         queued      (retried from Bull Board)
 *   requeued    queued, retrying, delivering   queued      (the lost-job sweep re-added its job)
 */

const STILL_WAITING: readonly AlertStatus[] = ['queued', 'retrying', 'delivering'];
const FROM: Record<'wait' | 'delivering' | 'delivered' | 'retrying' | 'interrupted' | 'failed' | 'retried', readonly AlertStatus[]> = {
  wait: STILL_WAITING,
  delivering: STILL_WAITING,
  delivered: ['delivering'],
  // a transient failure may come before the post (a member lookup answered 500)
  retrying: STILL_WAITING,
  interrupted: ['delivering'],
  failed: STILL_WAITING,
  retried: ['failed'],
};

export interface Failure {
  code: string;
  message: string;
  /** the token was refused: the subscription needs authorising again */
  reauthorize?: boolean;
}

/** A record reached `delivered` or `failed`. */
export interface FinalOutcome {
  record: AlertRow;
  failure: Failure | null;
}

export type FinalOutcomeHook = (outcome: FinalOutcome) => Promise<void>;

export class AlertLifecycle {
  constructor(
    private readonly store: AlertStore,
    private readonly onFinal: FinalOutcomeHook,
    private readonly now: () => number = Date.now,
  ) {}

  /** Back to `queued` while it waits out a rate limit, a concurrency slot or an earlier post. */
  async waiting(id: string): Promise<void> {
    await this.move(id, FROM.wait, { status: 'queued' });
  }

  /** The post is about to start: the one call that must not be repeated while it may be in flight. */
  async delivering(id: string, tokenSource: TokenSource): Promise<void> {
    await this.move(id, FROM.delivering, { status: 'delivering', tokenSource });
  }

  async delivered(id: string, result: { channel: string; ts: string; tokenSource: TokenSource; attempts: number }): Promise<void> {
    const record = await this.move(id, FROM.delivered, { status: 'delivered', ...result });
    if (record) await this.onFinal({ record, failure: null });
  }

  async retrying(id: string, attempts: number, failure: Failure): Promise<void> {
    await this.move(id, FROM.retrying, { status: 'retrying', attempts, error: { code: failure.code, message: failure.message } });
  }

  /** An attempt that failed outside delivery, while its record said `delivering`; BullMQ retries it. */
  async interrupted(id: string, attempts: number, failure: Failure): Promise<void> {
    await this.move(id, FROM.interrupted, { status: 'retrying', attempts, error: { code: failure.code, message: failure.message } });
  }

  /** Failed for good: no attempt is left, or the failure is permanent. */
  async failed(id: string, failure: Failure, extra: { attempts?: number; tokenSource?: TokenSource | null } = {}): Promise<void> {
    const record = await this.move(id, FROM.failed, {
      status: 'failed',
      error: { code: failure.code, message: failure.message },
      ...extra,
    });
    if (record) await this.onFinal({ record, failure });
  }

  /** Failed jobs retried from Bull Board: their records wait again. */
  async retried(ids: string[]): Promise<void> {
    for (const id of ids) await this.move(id, FROM.retried, { status: 'queued' });
  }

  /** The lost-job sweep re-added these jobs. */
  async requeued(ids: string[]): Promise<void> {
    for (const id of ids) await this.move(id, FROM.wait, { status: 'queued' });
  }

  private move(id: string, from: readonly AlertStatus[], change: StatusChange): Promise<AlertRow | undefined> {
    return this.store.transition(id, from, change, this.now());
  }
}
