import { Queue, type JobsOptions } from 'bullmq';
import type { RedisClient } from './redis.js';
import type { Config } from '../config.js';
import { TRANSFERS, type AlertEvent, type AlertMessage, type Transfer } from '../domain.js';
import { withTimeout } from '../lib/with-timeout.js';
import { QUEUE_NAMES } from './names.js';
import { deliveryJobName, type DeliveryJobData } from './delivery-job.js';

export interface QueuedDelivery extends DeliveryJobData {
  transfer: Transfer;
  /** wait this long before the job may start (its subscription's reserved window) */
  delayMs?: number;
  /** its place in that window: jobs start in rank order across subscriptions (SubscriptionThrottle) */
  rank?: number;
}

/** BullMQ's lowest priority (2^21 - 1); a rank beyond it shares it. */
const LAST_PRIORITY = 2_097_151;

/** A record's delivery job: ids, the member, the message and its condition; never a token. */
export function deliveryOf(row: {
  id: string;
  subscriptionId: string;
  recipient: string;
  transfer: Transfer;
  message: AlertMessage;
  dedupKey: string | null;
  event: AlertEvent;
}): QueuedDelivery {
  return {
    alertId: row.id,
    subscriptionId: row.subscriptionId,
    recipient: row.recipient,
    transfer: row.transfer,
    message: row.message,
    // the usual case carries neither: a plain firing alert
    ...(row.dedupKey === null ? {} : { dedupKey: row.dedupKey }),
    ...(row.event === 'firing' ? {} : { event: row.event }),
  };
}

/** The producer side of both delivery queues. */
export class AlertQueues {
  readonly byKind: Record<Transfer, Queue>;
  private readonly jobOptions: JobsOptions;

  constructor(
    private readonly connection: RedisClient,
    { queuePrefix, worker }: Pick<Config, 'queuePrefix' | 'worker'>,
  ) {
    this.byKind = {
      initial: new Queue(QUEUE_NAMES.initial, { connection, prefix: queuePrefix }),
      ongoing: new Queue(QUEUE_NAMES.ongoing, { connection, prefix: queuePrefix }),
    };
    for (const queue of Object.values(this.byKind)) queue.on('error', () => {});
    this.jobOptions = {
      attempts: worker.attempts,
      backoff: { type: 'exponential', delay: worker.retryBaseMs, jitter: 0.5 },
      // Finished jobs stay long enough to inspect and retry in Bull Board, and no longer: the
      // durable record is in the database, and a capped Redis must not fill with old failures.
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
    };
  }

  /** One job per alert, id = alert id, so a re-enqueue of the same alert never doubles it. */
  async add(deliveries: QueuedDelivery[]): Promise<void> {
    const jobs: Record<Transfer, Parameters<Queue['addBulk']>[0]> = { initial: [], ongoing: [] };
    for (const { transfer, delayMs, rank, ...data } of deliveries) {
      const opts: JobsOptions = { ...this.jobOptions, jobId: data.alertId };
      if (delayMs) opts.delay = delayMs;
      // a job re-queued without a rank (the lost-job sweeper's) goes first: it has waited already
      if (rank) opts.priority = Math.min(rank, LAST_PRIORITY);
      jobs[transfer].push({ name: deliveryJobName(data), data, opts });
    }
    for (const kind of TRANSFERS) {
      const [only, ...more] = jobs[kind];
      // one job alone skips addBulk's MULTI: a third less time for the single alert's request
      if (only && more.length === 0) await this.byKind[kind].add(only.name, only.data, only.opts);
      else if (only) await this.byKind[kind].addBulk(jobs[kind]);
    }
  }

  /**
   * Resolves once both queues are connected and ready, or after `timeoutMs` in any case: a web
   * process should not leave its first alert to pay for connecting, but must still start (and
   * answer 503) while Redis is down.
   */
  async ready(timeoutMs: number): Promise<void> {
    const connected = Promise.all(Object.values(this.byKind).map((queue) => queue.waitUntilReady()));
    await withTimeout(connected, timeoutMs).catch(() => {});
  }

  /**
   * Holds every worker of a queue off for `ms`, in all processes (BullMQ's manual rate limit), for
   * a job its worker then hands back. BullMQ hands a ranked job back without the marker that idle
   * workers block on, so one is left for when the hold ends: otherwise nobody might look again
   * before BullMQ's drain delay (5 s).
   */
  async holdOff(kind: Transfer, ms: number): Promise<void> {
    const queue = this.byKind[kind];
    await queue.rateLimit(ms);
    await this.connection.zadd(queue.keys.marker!, Date.now() + ms, '1');
  }

  /** The Redis key of a job's hash (BullMQ's `<prefix>:<queue>:<id>`). */
  jobKey(kind: Transfer, jobId: string): string {
    return this.byKind[kind].toKey(jobId);
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.byKind).map((queue) => queue.close()));
  }
}
