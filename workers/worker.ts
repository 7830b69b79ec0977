import type { Worker } from 'bullmq';
import { loadConfig, secretValues, type Config } from '../src/config.js';
import { TRANSFERS } from '../src/domain.js';
import { GlobalCeiling } from '../src/limits/global-ceiling.js';
import { SubscriptionConcurrency } from '../src/limits/subscription-concurrency.js';
import { createLogger, type Logger } from '../src/lib/logger.js';
import { runMain } from '../src/lib/run-main.js';
import { createServices, type Services } from '../src/services.js';
import { MemberDirectory } from '../src/slack/member-directory.js';
import { createDeliveryWorkers } from './delivery-workers.js';
import { LostJobSweeper } from './lost-job-sweeper.js';

/** A worker process: consumes both delivery queues until SIGTERM, then finishes in-flight jobs. */

export interface WorkerProcess {
  workers: Worker[];
  sweeper: LostJobSweeper;
  services: Services;
  close(): Promise<void>;
}

export async function startWorker(config: Config, logger: Logger): Promise<WorkerProcess> {
  const services = await createServices(config, logger, { role: 'worker' });
  const { stores, redis, keys, queues, lifecycle } = services;
  // BullMQ's global concurrency: THROTTLE_<KIND>_CONCURRENCY deliveries in flight, all workers.
  await Promise.all(TRANSFERS.map((transfer) => queues.byKind[transfer].setGlobalConcurrency(config.throttle[transfer].concurrency)));
  const workers = createDeliveryWorkers(redis, config, {
    alerts: stores.alerts,
    lifecycle,
    ceiling: new GlobalCeiling(redis, keys),
    queues,
    messages: stores.messages,
    subscriptions: stores.subscriptions,
    tokens: services.tokens,
    slack: services.slack,
    directory: new MemberDirectory(),
    // a lease outlives the longest delivery: three Slack calls, each bounded by the timeout
    concurrency: new SubscriptionConcurrency(redis, keys, 4 * config.slack.timeoutMs),
    globalConcurrency: { initial: config.throttle.initial.concurrency, ongoing: config.throttle.ongoing.concurrency },
    postTimeoutMs: config.slack.timeoutMs,
    logger,
  });
  for (const worker of workers) void worker.run();
  await Promise.all(workers.map((worker) => worker.waitUntilReady()));
  const sweeper = new LostJobSweeper({
    alerts: stores.alerts,
    lifecycle,
    queues,
    redis,
    keys,
    intervalMs: config.worker.sweepIntervalMs,
    minAgeMs: config.worker.sweepMinAgeMs,
    logger,
  });
  sweeper.start();
  return {
    workers,
    sweeper,
    services,
    async close() {
      // close() waits for the jobs in flight and takes no new ones.
      await Promise.all([sweeper.stop(), ...workers.map((worker) => worker.close())]);
      await services.close();
    },
  };
}

runMain(import.meta.url, async () => {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'worker', secrets: secretValues(config) });
  const worker = await startWorker(config, logger);
  logger.info({ concurrency: config.worker.concurrency }, 'worker process consuming alerts-initial and alerts-ongoing');
  return () => worker.close();
});
