import type { AlertStatus, TokenSource } from '../domain.js';
import type { AlertRow } from '../db/rows.js';
import type { AlertStore, StatusChange } from '../db/stores.js';

/**
 * The record's state machine (docs/contract.md §3), with its one owner: only these named
 * transitions exist, each from the states it may leave. What a final outcome changes elsewhere
 * (the manual sync's `lastSync`, "Re-authorization required") hangs off one hook; metrics are
 * counted from the records themselves.
 *
 *   transition  from                           to
 *   waiting     queued, retrying, delivering   queued      (a rate limit, a concurrency slot, an earlier post)
 *   delivering  queued, retrying, delivering   delivering  (just before the post, from the status the attempt read;
 *                                                            a storm's leader takes queued and retrying ones into its message)
 *   delivered   queued, retrying, delivering   delivered   (final; from `queued` when this attempt had nothing left
 *                                                            to post: its reply went out before, or the DM showed its post)
 *   retrying    queued, retrying, delivering   retrying    (a transient failure, attempts left)
 *   interrupted delivering                     retrying    (the attempt failed outside delivery: a crash, a database error)
 *   failed      queued, retrying, delivering   failed      (final)
 *   suppressed  queued, retrying, delivering   suppressed  (final: nothing to post, §6.4)
 *   retried     failed                         queued      (retried from Bull Board)
 *   requeued    queued, retrying, delivering   queued      (the lost-job sweep re-added its job)
 */

const STILL_WAITING: readonly AlertStatus[] = ['queued', 'retrying', 'delivering'];
const FROM: Record<'wait' | 'delivering' | 'delivered' | 'retrying' | 'interrupted' | 'failed' | 'suppressed' | 'retried', readonly AlertStatus[]> = {
  wait: STILL_WAITING,
  delivering: STILL_WAITING,
  delivered: STILL_WAITING,
  // a transient failure may come before the post (a member lookup answered 500)
  retrying: STILL_WAITING,
  interrupted: ['delivering'],
  failed: STILL_WAITING,
  suppressed: STILL_WAITING,
  retried: ['failed'],
};

export interface Failure {
  code: string;
  message: string;
  /** the token was refused: the subscription needs authorising again */
  reauthorize?: boolean;
}

/** A record reached `delivered`, `failed` or `suppressed`. */
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

  /**
   * The post is about to start: the one call that must not be repeated while it may be in flight.
   * `from` is the status the attempt read: if the record has moved since (a storm's leader took
   * it into its message), the answer is false and the attempt must not post.
   */
  async delivering(id: string, tokenSource: TokenSource, from: AlertStatus): Promise<boolean> {
    if (!FROM.delivering.includes(from)) return false;
    return (await this.move(id, [from], { status: 'delivering', tokenSource })) !== undefined;
  }

  async delivered(id: string, result: { channel: string; ts: string; tokenSource: TokenSource; attempts: number; coalesced?: boolean }): Promise<void> {
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

  /** Nothing was posted, and nothing needed to be: a resolve with nothing open, an HA duplicate (§6.4). */
  async suppressed(id: string, reason: Failure): Promise<void> {
    const record = await this.move(id, FROM.suppressed, { status: 'suppressed', error: { code: reason.code, message: reason.message } });
    if (record) await this.onFinal({ record, failure: null });
  }

  /** A thread reply of this alert went out: a retry does not post it again. */
  async replied(id: string, replyTs: string): Promise<void> {
    await this.store.recordReply(id, replyTs, this.now());
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
