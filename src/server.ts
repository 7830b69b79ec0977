import type { Server } from 'node:http';
import { loadConfig, secretValues, type Config } from './config.js';
import { AlertIntake } from './alerts/alert-intake.js';
import { AlertQueries } from './alerts/alert-queries.js';
import { createIntakeQuota } from './alerts/intake-quota.js';
import { NotificationDedup } from './alerts/notification-dedup.js';
import { createApp } from './http/create-app.js';
import { SubscriptionThrottle } from './limits/subscription-throttle.js';
import { createLogger, type Logger } from './lib/logger.js';
import { runMain } from './lib/run-main.js';
import { RelayMetrics } from './metrics/prometheus.js';
import { redisHealth } from './queues/redis.js';
import { createServices, type Services } from './services.js';
import { createInstaller } from './slack/oauth/installer.js';
import { ManualSync } from './subscriptions/manual-sync.js';
import { SubscriptionService } from './subscriptions/subscription-service.js';

/** The web process: config → services → app → listen, and a graceful stop. */

export interface WebProcess {
  server: Server;
  url: string;
  services: Services;
  close(): Promise<void>;
}

/** How long the web process waits for Redis before it listens anyway (and answers 503 until Redis is up). */
const REDIS_READY_WAIT_MS = 3000;

/** A request waits at most this long for the database lock, so a busy database answers 503 within a second. */
const WEB_BUSY_TIMEOUT_MS = 700;

export async function startWeb(config: Config, logger: Logger): Promise<WebProcess> {
  const services = await createServices(config, logger, { role: 'web', migrate: true, busyTimeoutMs: WEB_BUSY_TIMEOUT_MS });
  const { stores, redis, keys, queues } = services;
  const intake = new AlertIntake({
    alerts: stores.alerts,
    subscriptions: stores.subscriptions,
    queues,
    throttle: new SubscriptionThrottle(redis, keys),
    quota: createIntakeQuota(redis, { keyPrefix: keys.intakeQuota, perMinute: config.intakeRateLimit }),
    dedup: new NotificationDedup(redis, keys, config.dedupWindowMs),
    logger,
  });
  const sync = new ManualSync({
    store: stores.subscriptions,
    state: services.subscriptionState,
    tokens: services.tokens,
    slack: services.slack,
    intake,
  });
  const app = createApp({
    apiKeys: config.apiKeys,
    adminPassword: config.adminPassword,
    publicUrl: config.publicUrl,
    authorizeUrl: config.slack.authorizeUrl,
    installer: createInstaller({ config, stores, vault: services.vault, logger, egress: services.egress }),
    subscriptionStore: stores.subscriptions,
    subscriptions: new SubscriptionService({
      store: stores.subscriptions,
      installations: stores.installations,
      alerts: stores.alerts,
      vault: services.vault,
      config,
      egress: services.egress,
    }),
    intake,
    sync,
    queues,
    alerts: stores.alerts,
    lifecycle: services.lifecycle,
    secret: config.encryptionKey,
    pageDefaults: { apiUrl: config.slack.apiUrl, throttle: config.throttle },
    queries: new AlertQueries(stores.alerts, stores.subscriptions),
    metrics: new RelayMetrics({ alerts: stores.alerts, queues, redis, keys }),
    health: { redis: () => redisHealth(redis), database: () => stores.ping() },
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
    services,
    async close() {
      // Stop taking connections and let in-flight requests finish, then release Redis and the database.
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await services.close();
    },
  };
}

runMain(import.meta.url, async () => {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: 'web', secrets: secretValues(config) });
  if (config.credentialsFile) logger.info({ file: config.credentialsFile }, 'development credentials (API keys, admin password)');
  const web = await startWeb(config, logger);
  logger.info({ url: config.publicUrl, port: config.port }, 'web process listening');
  return () => web.close();
});
