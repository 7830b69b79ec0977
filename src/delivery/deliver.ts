import type { AlertLifecycle } from '../alerts/alert-lifecycle.js';
import { WAITING_STATUSES, type Transfer } from '../domain.js';
import { deliveryOf } from '../queues/alert-queues.js';
import { DatabaseUnavailableError, type AlertStore, type MessageStore, type SubscriptionStore } from '../db/stores.js';
import type { SubscriptionConcurrency } from '../limits/subscription-concurrency.js';
import type { Logger } from '../lib/logger.js';
import { stepTimer } from '../lib/step-timer.js';
import { deliveryJobSchema, type DeliveryJob } from '../queues/delivery-job.js';
import { classifySlackError, permanentFailure, type PermanentFailure, type SlackFailure } from '../slack/errors.js';
import type { SlackGateway } from '../slack/gateway.js';
import type { MemberDirectory } from '../slack/member-directory.js';
import type { TokenPicker } from '../slack/token-picker.js';
import type { PickedToken } from '../slack/token-precedence.js';
import type { DeliveryAttempt, Outcome } from './outcome.js';
import { postAlert } from './post-alert.js';

/**
 * One delivery attempt (docs/contract.md §3, §4): a function of the attempt and its dependencies,
 * with no process state of its own. It keeps the record in step through the lifecycle and answers
 * what the queue should do next.
 */

export interface DeliveryDeps {
  alerts: AlertStore;
  lifecycle: AlertLifecycle;
  /** the messages of open conditions (§6.4) */
  messages: MessageStore;
  subscriptions: SubscriptionStore;
  tokens: TokenPicker;
  slack: SlackGateway;
  directory: MemberDirectory;
  concurrency: SubscriptionConcurrency;
  /** THROTTLE_<KIND>_CONCURRENCY: a subscription limit below it needs leases */
  globalConcurrency: Record<Transfer, number>;
  /** SLACK_TIMEOUT_MS: how long a post can be in flight */
  postTimeoutMs: number;
  logger: Logger;
  now?: () => number;
}

const CONCURRENCY_WAIT_MS = 200;
const KEY_ORDER_WAIT_MS = 150;

/** A failure decided before anything reached Slack (`attempts` stays as it was). */
class NotAnAttempt extends Error {
  constructor(readonly failure: PermanentFailure) {
    super(failure.message);
  }
}
const POST_SETTLE_MARGIN_MS = 1000;
const DATABASE_WAIT_MS = 1000;

/**
 * The database down (PostgreSQL restarting, say) is no attempt: the job waits a moment and
 * touches nothing, so a post that went out before the database failed is found again in the DM
 * (post-alert's read-back) rather than posted twice.
 */
export async function deliver(attempt: DeliveryAttempt, deps: DeliveryDeps): Promise<Outcome> {
  try {
    return await attemptDelivery(attempt, deps);
  } catch (error) {
    if (!(error instanceof DatabaseUnavailableError)) throw error;
    deps.logger.debug({ jobId: attempt.jobId }, 'the database cannot answer; the delivery waits');
    return { outcome: 'wait', afterMs: DATABASE_WAIT_MS + Math.floor(Math.random() * DATABASE_WAIT_MS) };
  }
}

async function attemptDelivery(attempt: DeliveryAttempt, deps: DeliveryDeps): Promise<Outcome> {
  const now = deps.now ?? Date.now;
  const steps = attempt.steps ?? stepTimer(false);
  const parsed = deliveryJobSchema.safeParse(attempt.data);
  // A job whose data is gone (its hash deleted or evicted while its id stayed queued) is rebuilt
  // from its record, which is the truth: the job id is the alert id.
  const job = parsed.success ? parsed.data : await rebuiltJob(deps, attempt.jobId);
  if (!job) return { outcome: 'failed', failure: permanentFailure('invalid_job', 'The job data does not match the delivery schema.') };

  let record = await deps.alerts.get(job.alertId);
  steps.mark('record');
  // No record: the intake answered 503 and removed it, so the client never took this alert as sent.
  if (!record) return { outcome: 'skipped', reason: 'no_record' };
  // A job re-run after a crash between posting and completing must not post twice.
  if (record.status === 'delivered' || record.status === 'suppressed') return { outcome: 'skipped', reason: 'already_delivered' };
  // A failed record whose job runs again was retried (from Bull Board, or by a script): it waits again.
  if (record.status === 'failed') {
    await deps.lifecycle.retried([record.id]);
    record = { ...record, status: 'queued' };
  }
  // A post may still be in flight in a worker that lost this job's lock (a Redis outage longer
  // than WORKER_LOCK_MS, say): wait until that post has answered or timed out, then look again.
  if (record.status === 'delivering') {
    const settledAt = record.updatedAt + deps.postTimeoutMs + POST_SETTLE_MARGIN_MS;
    if (now() < settledAt) return { outcome: 'wait', afterMs: settledAt - now() };
  }

  const subscription = await deps.subscriptions.get(job.subscriptionId);
  if (!subscription) return fail(deps, job, permanentFailure('subscription_deleted'), attempt.attemptsMade, null);
  // One condition's alerts go in the order they were accepted: a resolve waits for its firing.
  if (await deps.alerts.earlierOfKeyWaiting(record)) return wait(deps, job, KEY_ORDER_WAIT_MS + Math.floor(Math.random() * KEY_ORDER_WAIT_MS));
  steps.mark('subscription');

  // The subscription's own concurrency: a job over it waits a moment without counting an attempt.
  // A limit at or above the global one is already kept by BullMQ, and needs no lease.
  const transfer = record.transfer;
  const limit = subscription.throttle[transfer].concurrency;
  const leased = limit < deps.globalConcurrency[transfer];
  if (leased && !(await deps.concurrency.acquire(subscription.id, transfer, job.alertId, limit))) {
    return wait(deps, job, CONCURRENCY_WAIT_MS + Math.floor(Math.random() * CONCURRENCY_WAIT_MS));
  }
  const attemptNumber = attempt.attemptsMade + 1;
  let picked: PickedToken | null = null;
  try {
    picked = await deps.tokens.pick(subscription).catch((error: unknown) => {
      const failure = classifySlackError(error);
      // no token, or nowhere it may go: this attempt never reached Slack, and is no attempt
      if (failure.kind === 'permanent') throw new NotAnAttempt(failure);
      throw error;
    });
    steps.mark('credentials');
    const posted = await postAlert(deps, job, record, picked, steps);
    if (posted.outcome === 'wait') return posted.untouched ? { outcome: 'wait', afterMs: posted.afterMs } : wait(deps, job, posted.afterMs);
    if (posted.outcome === 'suppressed') {
      await deps.lifecycle.suppressed(job.alertId, { code: posted.code, message: posted.message });
      return { outcome: 'suppressed', code: posted.code };
    }
    const { channel, ts, coalesced } = posted;
    await deps.lifecycle.delivered(job.alertId, { channel, ts, tokenSource: picked.source, attempts: attemptNumber, coalesced });
    steps.mark('recorded');
    return { outcome: 'delivered', channel, ts };
  } catch (error) {
    if (error instanceof NotAnAttempt) return fail(deps, job, error.failure, attempt.attemptsMade, null);
    const failure = classifySlackError(error);
    return onFailure(deps, job, picked, failure, attemptNumber, attempt.maxAttempts);
  } finally {
    if (leased) await deps.concurrency.release(subscription.id, transfer, job.alertId).catch(() => {});
  }
}

async function rebuiltJob(deps: DeliveryDeps, jobId: string | undefined): Promise<DeliveryJob | undefined> {
  const record = jobId ? await deps.alerts.get(jobId) : undefined;
  if (!record || !(WAITING_STATUSES as readonly string[]).includes(record.status)) return undefined;
  deps.logger.warn({ alertId: record.id }, 'a job had lost its data; delivering from the record');
  const parsed = deliveryJobSchema.safeParse(deliveryOf(record));
  return parsed.success ? parsed.data : undefined;
}

async function onFailure(
  deps: DeliveryDeps,
  job: DeliveryJob,
  picked: PickedToken | null,
  failure: SlackFailure,
  attempt: number,
  maxAttempts: number,
): Promise<Outcome> {
  const log = deps.logger.child({ alertId: job.alertId, subscriptionId: job.subscriptionId, code: failure.code });
  if (failure.kind === 'rate_limited' || failure.kind === 'wait') {
    log.info({ retryAfterMs: failure.retryAfterMs }, failure.kind === 'wait' ? failure.message : 'Slack rate limit; delivery delayed');
    return wait(deps, job, failure.retryAfterMs);
  }
  if (failure.kind === 'permanent') {
    if (failure.code === 'channel_not_found' && picked) deps.directory.forget(`${job.subscriptionId}:${picked.source}`);
    return fail(deps, job, failure, attempt, picked);
  }
  if (attempt >= maxAttempts) {
    log.warn({ attempt }, 'delivery failed: attempts exhausted');
    return fail(deps, job, failure, attempt, picked);
  }
  await deps.lifecycle.retrying(job.alertId, attempt, failure);
  log.info({ attempt }, 'transient Slack failure; will retry');
  return { outcome: 'retry', failure };
}

/** Back to waiting for `ms`: not an attempt. */
async function wait(deps: DeliveryDeps, job: DeliveryJob, ms: number): Promise<Outcome> {
  await deps.lifecycle.waiting(job.alertId);
  return { outcome: 'wait', afterMs: ms };
}

async function fail(
  deps: DeliveryDeps,
  job: DeliveryJob,
  failure: SlackFailure & { kind: 'permanent' | 'transient' },
  attempts: number,
  picked: PickedToken | null,
): Promise<Outcome> {
  const reauthorize = failure.kind === 'permanent' && failure.reauthorize;
  await deps.lifecycle.failed(job.alertId, { ...failure, reauthorize }, { attempts, tokenSource: picked?.source ?? null });
  deps.logger.warn({ alertId: job.alertId, subscriptionId: job.subscriptionId, code: failure.code }, 'delivery failed');
  return { outcome: 'failed', failure };
}
