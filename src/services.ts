import type { RedisClient } from './queues/redis.js';
import type { Config } from './config.js';
import { AlertLifecycle } from './alerts/alert-lifecycle.js';
import { openStores } from './db/open-stores.js';
import type { Stores } from './db/stores.js';
import { redisKeys, type RedisKeys } from './limits/redis-keys.js';
import { SlackRateLimits } from './limits/slack-rate-limits.js';
import type { Logger } from './lib/logger.js';
import { createVault, type Vault } from './lib/vault.js';
import { AlertQueues } from './queues/alert-queues.js';
import { createRedis } from './queues/redis.js';
import { SlackClientFactory } from './slack/client-factory.js';
import { createEgressPolicy, type EgressPolicy } from './slack/egress-policy.js';
import { SlackGateway } from './slack/gateway.js';
import { OAuthTokens } from './slack/oauth/oauth-tokens.js';
import { TokenPicker } from './slack/token-picker.js';
import { SubscriptionState } from './subscriptions/subscription-state.js';

/**
 * What web and worker processes share, wired the same way for both from the configuration: the
 * stores, the vault, Redis and the queues, the egress policy and the Slack gateway, the record
 * lifecycle and the tokens. Each entry point (src/server.ts, workers/worker.ts) adds its own parts.
 */
export interface Services {
  config: Config;
  logger: Logger;
  stores: Stores;
  vault: Vault;
  /** web: fails fast while Redis is down; worker: waits for it (src/queues/redis.ts) */
  redis: RedisClient;
  keys: RedisKeys;
  queues: AlertQueues;
  egress: EgressPolicy;
  slackClients: SlackClientFactory;
  slack: SlackGateway;
  subscriptionState: SubscriptionState;
  lifecycle: AlertLifecycle;
  tokens: TokenPicker;
  close(): Promise<void>;
}

export interface ServiceOptions {
  role: 'web' | 'worker';
  /** apply pending migrations first (the web process does, so `npm run start:web` works on a new database) */
  migrate?: boolean;
  /** how long a request waits for SQLite's write lock */
  busyTimeoutMs?: number;
}

export async function createServices(config: Config, logger: Logger, options: ServiceOptions): Promise<Services> {
  const stores = await openStores(config, { role: options.role, migrate: options.migrate, busyTimeoutMs: options.busyTimeoutMs });
  const vault = createVault(config.encryptionKey);
  const redis = createRedis(config, options.role === 'web' ? 'producer' : 'worker');
  const keys = redisKeys(config.queuePrefix);
  const queues = new AlertQueues(redis, config);
  const egress = createEgressPolicy(config);
  const slackClients = new SlackClientFactory({ timeoutMs: config.slack.timeoutMs, logger, egress });
  const subscriptionState = new SubscriptionState(stores.subscriptions);
  const oauthTokens = new OAuthTokens({
    redis,
    keys,
    installations: stores.installations,
    markReauthRequired: (id) => subscriptionState.markReauthRequired(id),
    vault,
    slack: slackClients,
    apiUrl: config.slack.apiUrl,
    oauth: config.slack.oauth,
    logger,
  });
  return {
    config,
    logger,
    stores,
    vault,
    redis,
    keys,
    queues,
    egress,
    slackClients,
    slack: new SlackGateway(slackClients, new SlackRateLimits(redis, keys)),
    subscriptionState,
    lifecycle: new AlertLifecycle(stores.alerts, subscriptionState.onFinalOutcome),
    tokens: new TokenPicker({ vault, oauthTokens, egress, oauthApiUrl: config.slack.apiUrl }),
    async close() {
      await queues.close();
      redis.disconnect();
      await egress.close();
      await stores.close();
    },
  };
}
