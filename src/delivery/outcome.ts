import type { Failure } from '../alerts/alert-lifecycle.js';
import type { StepTimer } from '../lib/step-timer.js';

/**
 * What one delivery attempt came to (docs/contract.md §4), for the queue to carry out. Delivery
 * knows nothing of BullMQ: the worker's processor maps each outcome to BullMQ's API.
 */
export type Outcome =
  | { outcome: 'delivered'; channel: string; ts: string }
  /** nothing to do: no record (its intake answered 503), or it was delivered already */
  | { outcome: 'skipped'; reason: 'no_record' | 'already_delivered' }
  /** nothing to post, by design: a resolve with nothing open (§6.4) */
  | { outcome: 'suppressed'; code: string }
  /** try again after `afterMs`, not counting an attempt: a Slack rate limit, a concurrency slot, a post still in flight */
  | { outcome: 'wait'; afterMs: number }
  /** a transient failure with attempts left: try again after the queue's backoff, counting this attempt */
  | { outcome: 'retry'; failure: Failure }
  /** failed for good: permanent, or no attempt left */
  | { outcome: 'failed'; failure: Failure };

/** What delivery needs to know of the job, without BullMQ. */
export interface DeliveryAttempt {
  /** the job's id: its alert's id */
  jobId: string | undefined;
  /** the job's data, untrusted until parsed */
  data: unknown;
  /** attempts made before this one */
  attemptsMade: number;
  maxAttempts: number;
  /** marks this attempt's steps (LOG_LEVEL=debug) */
  steps?: StepTimer;
}
