import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { deliver, type DeliveryDeps } from '../src/delivery/deliver.js';
import type { Failure } from '../src/alerts/alert-lifecycle.js';
import { stepTimer, type StepTimer } from '../src/lib/step-timer.js';

/**
 * The BullMQ processor: runs one delivery attempt and maps its outcome to BullMQ, as BullMQ's own
 * worker maps a processor's result (docs/contract.md §4):
 * - delivered, skipped → return (the job completes);
 * - wait → back to the delayed set for `afterMs`, not counting an attempt (DelayedError);
 * - retry → a plain error: BullMQ retries with backoff and counts the attempt;
 * - failed → UnrecoverableError: no more attempts.
 * Errors carry the code and message alone as their stack, so Bull Board's Error tab shows those and
 * nothing of the server (no stack frames, no file paths).
 */
export function deliveryProcessor(deps: DeliveryDeps) {
  return async (job: Job, token?: string, steps: StepTimer = stepTimer(false)) => {
    const attempt = { jobId: job.id, data: job.data, attemptsMade: job.attemptsMade, maxAttempts: job.opts.attempts ?? 1, steps };
    const outcome = await deliver(attempt, deps);
    // at debug: where this attempt's time went, from when the worker took the job
    if (steps.startedAt) deps.logger.debug({ alertId: job.id, outcome: outcome.outcome, steps: steps.steps, startedAt: steps.startedAt }, 'delivery steps');
    switch (outcome.outcome) {
      case 'delivered':
      case 'skipped':
      case 'suppressed':
        return outcome;
      case 'wait':
        await job.moveToDelayed(Date.now() + outcome.afterMs, token);
        throw new DelayedError();
      case 'retry':
        throw withoutTrace(new Error(describe(outcome.failure)));
      case 'failed':
        throw withoutTrace(new UnrecoverableError(describe(outcome.failure)));
    }
  };
}

const describe = (failure: Failure) => `${failure.code}: ${failure.message}`;

function withoutTrace<E extends Error>(error: E): E {
  error.stack = error.message;
  return error;
}
