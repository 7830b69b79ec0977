import type { Worker } from 'bullmq';
import { loadConfig, secretValues, type Config } from '../src/config.js';
import { createEgressPolicy } from '../src/slack/egress-policy.js';
import { createCore, type Core } from '../src/core.js';
import { createLogger, type Logger } from '../src/lib/logger.js';
import { runMain } from '../src/lib/run-main.js';
import { createRedis } from '../src/queues/redis.js';
import { SlackClientFactory } from '../src/slack/client-factory.js';
import { MemberDirectory } from '../src/slack/member-directory.js';
import { createOAuthTokens } from '../src/slack/oauth/oauth-tokens.js';
import { createDeliveryWorkers } from './delivery-workers.js';
import { LostJobSweeper } from './lost-job-sweeper.js';
import { AlertQueues } from '../src/queues/alert-queues.js';
import { SubscriptionConcurrency } from '../src/queues/subscription-concurrency.js';
import { SlackRateLimits } from '../src/slack/rate-limit-scopes.js';
import { TRANSFER_KINDS } from '../src/queues/names.js';

/** A worker process: consumes both delivery queues until SIGTERM, then finishes in-flight jobs. */

export interface WorkerProcess {
  workers: Worker[];
  sweeper: LostJobSweeper;
  core: Core;
  close(): Promise<void>;
}

export async function startWorker(config: Config, logger: Logger, core = createCore(config)): Promise<WorkerProcess> {
  const connection = createRedis(config.redisUrl, 'worker');
  const queues = new AlertQueues(connection, config);
  // BullMQ's global concurrency: THROTTLE_<KIND>_CONCURRENCY deliveries in flight, all workers.
  await Promise.all(TRANSFER_KINDS.map((kind) => queues.byKind[kind].setGlobalConcurrency(config.throttle[kind].concurrency)));
  const egress = createEgressPolicy(config);
  const slack = new SlackClientFactory({ timeoutMs: config.slack.timeoutMs, logger, egress });
  const workers = createDeliveryWorkers(connection, config, {
    alerts: core.alerts,
    subscriptions: core.subscriptions,
    vault: core.vault,
    slack,
    directory: new MemberDirectory(),
    oauthTokens: createOAuthTokens(config, core, connection, slack, logger),
    rateLimits: new SlackRateLimits(connection, config.queuePrefix),
    // a lease outlives the longest delivery: three Slack calls, each bounded by the timeout
    concurrency: new SubscriptionConcurrency(connection, config.queuePrefix, 4 * config.slack.timeoutMs),
    globalConcurrency: { initial: config.throttle.initial.concurrency, ongoing: config.throttle.ongoing.concurrency },
    oauthApiUrl: config.slack.apiUrl,
    egress,
    postTimeoutMs: config.slack.timeoutMs,
    logger,
  });
  for (const worker of workers) void worker.run();
  await Promise.all(workers.map((worker) => worker.waitUntilReady()));
  const sweeper = new LostJobSweeper({
    alerts: core.alerts,
    queues,
    redis: connection,
    keyPrefix: config.queuePrefix,
    intervalMs: config.worker.sweepIntervalMs,
    minAgeMs: config.worker.sweepMinAgeMs,
    logger,
  });
  sweeper.start();
  return {
    workers,
    sweeper,
    core,
    async close() {
      // close() waits for the jobs in flight and takes no new ones.
      await Promise.all([sweeper.stop(), ...workers.map((worker) => worker.close())]);
      await queues.close();
      connection.disconnect();
      await egress.close();
      core.db.$client.close();
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
