import { Worker, type Job } from 'bullmq';
import type { RedisClient } from '../src/queues/redis.js';
import type { AlertQueues } from '../src/queues/alert-queues.js';
import type { AlertLifecycle } from '../src/alerts/alert-lifecycle.js';
import type { Config } from '../src/config.js';
import type { DeliveryDeps } from '../src/delivery/deliver.js';
import { TRANSFERS } from '../src/domain.js';
import type { GlobalCeiling } from '../src/limits/global-ceiling.js';
import { untrustedText } from '../src/lib/redact.js';
import { stepTimer } from '../src/lib/step-timer.js';
import { QUEUE_NAMES } from '../src/queues/names.js';
import { deliveryProcessor } from './delivery-processor.js';

/**
 * BullMQ's limiter only has to be there for a queue-wide rate limit to hold every worker back; the
 * ceiling itself is the GlobalCeiling, so this one never binds on its own.
 */
const LIMITER_OFF = { max: 2_000_000_000, duration: 1000 };

/**
 * The BullMQ workers of one worker process: one per queue. Each start takes one of its queue's
 * global ceiling first (THROTTLE_<KIND>_LIMIT starts per window, across processes); a start over it
 * goes back where it waited, keeping its rank and its attempts, and the whole queue holds off, in
 * every process, until the ceiling has room again (BullMQ's manual rate limit).
 */
export function createDeliveryWorkers(
  connection: RedisClient,
  config: Pick<Config, 'queuePrefix' | 'throttle' | 'worker'>,
  deps: DeliveryDeps & { lifecycle: AlertLifecycle; ceiling: GlobalCeiling; queues: AlertQueues },
): Worker[] {
  const processor = deliveryProcessor(deps);
  return TRANSFERS.map((transfer) => {
    const limits = config.throttle[transfer];
    // jobs this process has already taken when the ceiling says no go back without asking again
    let heldUntil = 0;
    const withinCeiling = async (job: Job, token?: string) => {
      if (Date.now() >= heldUntil) {
        const steps = stepTimer(deps.logger.isLevelEnabled('debug'));
        const holdMs = await deps.ceiling.take(transfer, limits, job.opts.priority ?? 0);
        steps.mark('ceiling');
        if (holdMs === 0) return processor(job, token, steps);
        heldUntil = Date.now() + holdMs;
        await deps.queues.holdOff(transfer, holdMs);
      }
      throw Worker.RateLimitError();
    };
    const worker = new Worker(QUEUE_NAMES[transfer], withinCeiling, {
      connection,
      prefix: config.queuePrefix,
      concurrency: config.worker.concurrency,
      limiter: LIMITER_OFF,
      lockDuration: config.worker.lockMs,
      stalledInterval: config.worker.stalledIntervalMs,
      maxStalledCount: 2,
      autorun: false,
    });
    const log = deps.logger.child({ queue: QUEUE_NAMES[transfer] });
    // A Redis outage or failover makes every reconnect attempt an error: one line, then a count.
    let quietUntil = 0;
    let quieted = 0;
    worker.on('error', (error) => {
      const now = Date.now();
      if (now < quietUntil) return void (quieted += 1);
      log.error({ err: untrustedText(error.message), ...(quieted ? { alsoSince: quieted } : {}) }, 'worker error (further ones are counted for 10 s)');
      quietUntil = now + 10_000;
      quieted = 0;
    });
    // A job can also fail where the processor could not record it (stalled too often, a database
    // error): the lifecycle keeps its record honest, and its final-outcome hook settles what hangs
    // off it (a manual sync's lastSync). Outcomes the processor recorded are not waiting any more,
    // so these transitions leave them alone.
    worker.on('failed', (job, error) => {
      if (!job?.id) return;
      const failure = { code: 'worker_error', message: untrustedText(error.message) };
      // a job stalled too often is failed by BullMQ with an UnrecoverableError, whatever its attempts
      const final = error.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
      const settled = final
        ? deps.lifecycle.failed(job.id, failure, { attempts: job.attemptsMade })
        : deps.lifecycle.interrupted(job.id, job.attemptsMade, failure);
      settled.catch((cause: unknown) => log.warn({ alertId: job.id, err: untrustedText((cause as Error).message) }, 'could not record a failed job'));
    });
    return worker;
  });
}
