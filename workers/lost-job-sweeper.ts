import type { RedisClient } from '../src/queues/redis.js';
import type { AlertLifecycle } from '../src/alerts/alert-lifecycle.js';
import type { AlertRow } from '../src/db/rows.js';
import type { AlertStore } from '../src/db/stores.js';
import type { RedisKeys } from '../src/limits/redis-keys.js';
import { deliveryOf, type AlertQueues } from '../src/queues/alert-queues.js';
import type { Logger } from '../src/lib/logger.js';

/**
 * Nothing is lost (docs/contract.md §4): with AOF's `everysec`, a Redis crash can lose the last second of jobs
 * whose alerts were already answered 202. Every `intervalMs`, one worker process (elected by a
 * Redis lock) looks at records still waiting (`queued`, `retrying`, `delivering`) untouched for
 * `minAgeMs`, and re-adds the job of any whose job is gone. The job id is the alert id, so a job
 * that does exist is never doubled.
 */
export interface SweeperOptions {
  alerts: AlertStore;
  lifecycle: AlertLifecycle;
  queues: AlertQueues;
  redis: RedisClient;
  keys: RedisKeys;
  intervalMs: number;
  minAgeMs: number;
  batchSize?: number;
  logger: Logger;
}

export class LostJobSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(private readonly options: SweeperOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.sweepIfElected(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private async sweepIfElected(): Promise<void> {
    if (this.running) return;
    const lock = this.options.keys.sweeperLock;
    try {
      if ((await this.options.redis.set(lock, String(process.pid), 'PX', this.options.intervalMs, 'NX')) !== 'OK') return;
      this.running = this.sweep();
      await this.running;
    } catch (error) {
      this.options.logger.warn({ err: (error as Error).message }, 'lost-job sweep failed; will try again');
    } finally {
      this.running = null;
    }
  }

  /** One pass over every waiting record, a page at a time; answers how many jobs were re-added. */
  async sweep(): Promise<number> {
    const { alerts, minAgeMs, batchSize = 500 } = this.options;
    const before = Date.now() - minAgeMs;
    let added = 0;
    for (let offset = 0; ; offset += batchSize) {
      const page = await alerts.waitingSince(before, { limit: batchSize, offset });
      if (page.length === 0) break;
      added += await this.reAddLost(page);
      if (page.length < batchSize) break;
    }
    return added;
  }

  private async reAddLost(candidates: AlertRow[]): Promise<number> {
    const { lifecycle, queues, redis, logger } = this.options;
    // A job's hash exists for as long as the job does, in any state: one pipelined EXISTS each.
    const pipeline = redis.pipeline();
    for (const record of candidates) pipeline.exists(queues.jobKey(record.transfer, record.id));
    const replies = (await pipeline.exec()) ?? [];
    const lost = candidates.filter((_, i) => replies[i]?.[1] === 0);
    if (lost.length === 0) return 0;
    await queues.add(lost.map(deliveryOf));
    await lifecycle.requeued(lost.map((record) => record.id));
    logger.warn({ count: lost.length, alertIds: lost.map((r) => r.id).slice(0, 20) }, 're-enqueued alerts whose jobs were lost');
    return lost.length;
  }
}
