import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../src/config.js';
import { QUEUE_NAMES, TRANSFER_KINDS } from '../src/queues/names.js';
import { deliverAlert, type DeliveryDeps } from './deliver-alert.js';

/**
 * The BullMQ workers of one worker process: one per queue. BullMQ's limiter is global across
 * processes (kept in Redis): THROTTLE_<KIND>_LIMIT starts per window.
 */
export function createDeliveryWorkers(
  connection: Redis,
  config: Pick<Config, 'queuePrefix' | 'throttle' | 'worker'>,
  deps: DeliveryDeps,
): Worker[] {
  return TRANSFER_KINDS.map((kind) => {
    const limits = config.throttle[kind];
    const worker = new Worker(QUEUE_NAMES[kind], (job, token) => deliverAlert(job, token, deps), {
      connection,
      prefix: config.queuePrefix,
      concurrency: config.worker.concurrency,
      limiter: { max: limits.limit, duration: limits.seconds * 1000 },
      lockDuration: config.worker.lockMs,
      stalledInterval: config.worker.stalledIntervalMs,
      maxStalledCount: 2,
      autorun: false,
    });
    const log = deps.logger.child({ queue: QUEUE_NAMES[kind] });
    worker.on('error', (error) => log.error({ err: error.message }, 'worker error'));
    // A job can also fail where the processor could not record it (stalled too often, a database
    // error): keep its record honest. Outcomes the processor recorded are left as they are.
    worker.on('failed', (job, error) => {
      const record = job?.id ? deps.alerts.get(job.id) : undefined;
      if (!job || record?.status !== 'delivering') return;
      const final = job.attemptsMade >= (job.opts.attempts ?? 1);
      const failure = { code: 'worker_error', message: error.message };
      if (final) deps.alerts.markFailed(record.id, failure);
      else deps.alerts.setStatus(record.id, 'retrying', { errorCode: failure.code, errorMessage: failure.message });
    });
    return worker;
  });
}
