import type { Server } from 'node:http';
import { loadConfig, secretValues, type Config } from './config.js';
import { createCore, type Core } from './core.js';
import { createLogger, type Logger } from './lib/logger.js';
import { createRedis, redisHealth } from './queues/redis.js';
import { createIntakeQuota } from './alerts/intake-quota.js';
import { createEgressPolicy } from './slack/egress-policy.js';
import { AlertQueues } from './queues/alert-queues.js';
import { SubscriptionThrottle } from './queues/subscription-throttle.js';
import { SubscriptionService } from './subscriptions/subscription-service.js';
import { AlertIntake } from './alerts/alert-intake.js';
import { AlertQueries } from './alerts/alert-queries.js';
import { createApp } from './http/create-app.js';
import { createInstaller } from './slack/oauth/installer.js';
import { renderMetrics } from './metrics/prometheus.js';
import { runMain } from './lib/run-main.js';
import { SlackClientFactory } from './slack/client-factory.js';
import { createOAuthTokens } from './slack/oauth/oauth-tokens.js';
import { ManualSync } from './subscriptions/manual-sync.js';

/** The web process: config → dependencies → app → listen, and a graceful stop. */

export interface WebProcess {
  server: Server;
  url: string;
  core: Core;
  close(): Promise<void>;
}

/** How long the web process waits for Redis before it listens anyway (and answers 503 until Redis is up). */
const REDIS_READY_WAIT_MS = 3000;

/** A request waits at most this long for the database lock, so a busy database answers 503 within a second. */
const WEB_BUSY_TIMEOUT_MS = 700;

export async function startWeb(
  config: Config,
  logger: Logger,
  core = createCore(config, { migrate: true, busyTimeoutMs: WEB_BUSY_TIMEOUT_MS }),
): Promise<WebProcess> {
  const redis = createRedis(config.redisUrl, 'producer');
  const queues = new AlertQueues(redis, config);
  const intake = new AlertIntake({
    alerts: core.alerts,
    subscriptions: core.subscriptions,
    queues,
    throttle: new SubscriptionThrottle(redis, config.queuePrefix),
    quota: createIntakeQuota(redis, { keyPrefix: config.queuePrefix, perMinute: config.intakeRateLimit }),
  });
  const egress = createEgressPolicy(config);
  const slack = new SlackClientFactory({ timeoutMs: config.slack.timeoutMs, logger, egress });
  const sync = new ManualSync({
    store: core.subscriptions,
    vault: core.vault,
    slack,
    oauthTokens: createOAuthTokens(config, core, redis, slack, logger),
    intake,
    oauthApiUrl: config.slack.apiUrl,
    egress,
  });
  const app = createApp({
    apiKeys: config.apiKeys,
    adminPassword: config.adminPassword,
    publicUrl: config.publicUrl,
    authorizeUrl: config.slack.authorizeUrl,
    installer: createInstaller({ config, db: core.db, subscriptions: core.subscriptions, vault: core.vault, logger, egress }),
    subscriptionStore: core.subscriptions,
    subscriptions: new SubscriptionService({ store: core.subscriptions, vault: core.vault, config, egress }),
    intake,
    sync,
    queues,
    alerts: core.alerts,
    secret: config.encryptionKey,
    pageDefaults: { apiUrl: config.slack.apiUrl, throttle: config.throttle },
    queries: new AlertQueries(core.alerts, core.subscriptions),
    metrics: () => renderMetrics({ alerts: core.alerts, queues, redis, keyPrefix: config.queuePrefix }),
    health: {
      redis: () => redisHealth(redis),
      database: () => core.db.$client.prepare('select 1').get() !== undefined,
    },
    logger,
  });

  await queues.ready(REDIS_READY_WAIT_MS);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, '0.0.0.0', (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    core,
    async close() {
      // Stop taking connections and let in-flight requests finish, then release Redis and SQLite.
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await queues.close();
      redis.disconnect();
      await egress.close();
      core.db.$client.close();
    },
  };
}

runMain(import.meta.url, async () => {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'web', secrets: secretValues(config) });
  if (config.credentialsFile) logger.info({ file: config.credentialsFile }, 'development credentials (API key, admin password)');
  const web = await startWeb(config, logger);
  logger.info({ url: config.publicUrl, port: config.port }, 'web process listening');
  return () => web.close();
});
