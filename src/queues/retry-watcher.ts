import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_NAMES, TRANSFER_KINDS } from './names.js';

/**
 * A failed job retried from Bull Board goes back to waiting; its record must say `queued` again
 * (SPEC §3). BullMQ's queue events tell us when a job leaves the failed set.
 */
export function watchRetries(connection: Redis, prefix: string, onRetried: (jobId: string) => void): QueueEvents[] {
  return TRANSFER_KINDS.map((kind) => {
    const events = new QueueEvents(QUEUE_NAMES[kind], { connection, prefix });
    events.on('error', () => {});
    events.on('waiting', ({ jobId, prev }) => {
      if (prev === 'failed') onRetried(jobId);
    });
    return events;
  });
}
