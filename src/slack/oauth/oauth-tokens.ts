import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../../config.js';
import type { Core } from '../../core.js';
import type { InstallationRow } from '../../db/schema.js';
import type { Logger } from '../../lib/logger.js';
import type { Vault } from '../../lib/vault.js';
import type { SubscriptionStore } from '../../subscriptions/subscription-store.js';
import type { SlackClientFactory } from '../client-factory.js';
import { classifySlackError } from '../classify-error.js';
import { DeliveryFailure } from '../member-directory.js';

/**
 * A subscription's OAuth access token, refreshed when token rotation is on (SPEC §2): before
 * expiry (within a margin of a tenth of its lifetime, at most five minutes) and after Slack says
 * `token_expired`. Refresh tokens are single-use, so exactly one process spends each: a Redis lock
 * per subscription elects the refresher, and the others wait for the new token to appear in the
 * database.
 */

const MAX_MARGIN_MS = 5 * 60 * 1000;
const LOCK_MS = 15_000;
const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface OAuthTokensDeps {
  redis: Redis;
  keyPrefix: string;
  subscriptions: SubscriptionStore;
  vault: Vault;
  slack: SlackClientFactory;
  /** SLACK_API_URL, where the tokens were issued */
  apiUrl: string;
  oauth: { clientId: string; clientSecret: string } | null;
  logger: Logger;
  now?: () => number;
}

export class OAuthTokens {
  private readonly now: () => number;

  constructor(private readonly deps: OAuthTokensDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** The access token to use now, or null when the subscription has no OAuth installation. */
  async current(subscriptionId: string): Promise<string | null> {
    const installation = this.deps.subscriptions.getInstallation(subscriptionId);
    if (!installation) return null;
    const token = this.deps.vault.open(installation.accessTokenSealed);
    return this.needsRefresh(installation) ? this.refresh(subscriptionId, token) : token;
  }

  /**
   * Exchange the refresh token for a new pair, unless another process already did so since
   * `staleToken` was read; either way, answer the token that is current afterwards.
   */
  async refresh(subscriptionId: string, staleToken: string): Promise<string> {
    const key = `${this.deps.keyPrefix}:oauth-refresh:${subscriptionId}`;
    const owner = randomBytes(12).toString('hex');
    const deadline = this.now() + LOCK_MS;
    for (;;) {
      const fresh = this.tokenIfChanged(subscriptionId, staleToken);
      if (fresh) return fresh;
      if ((await this.deps.redis.set(key, owner, 'PX', LOCK_MS, 'NX')) === 'OK') break;
      if (this.now() > deadline) throw failure('token_expired', 'Another process is still refreshing the OAuth token.');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    try {
      return this.tokenIfChanged(subscriptionId, staleToken) ?? (await this.exchange(subscriptionId));
    } finally {
      await this.deps.redis.eval(RELEASE_LOCK, 1, key, owner).catch(() => {});
    }
  }

  private async exchange(subscriptionId: string): Promise<string> {
    const installation = this.deps.subscriptions.getInstallation(subscriptionId);
    if (!installation?.refreshTokenSealed || !this.deps.oauth) {
      throw failure('token_expired', 'The OAuth token expired and cannot be refreshed; authorise again.', subscriptionId, this.deps);
    }
    const client = this.deps.slack.client(this.deps.apiUrl, '');
    let result;
    try {
      result = await client.oauth.v2.access({
        client_id: this.deps.oauth.clientId,
        client_secret: this.deps.oauth.clientSecret,
        grant_type: 'refresh_token',
        refresh_token: this.deps.vault.open(installation.refreshTokenSealed),
      });
    } catch (error) {
      const classified = classifySlackError(error);
      if (classified.kind !== 'permanent') throw error;
      // A refresh token Slack refuses will not work later either: the operator must authorise again.
      throw failure(classified.code, `Refreshing the OAuth token failed (${classified.code}); authorise again.`, subscriptionId, this.deps);
    }
    if (!result.access_token) throw failure('token_expired', 'Slack returned no access token.', subscriptionId, this.deps);
    const now = this.now();
    this.deps.subscriptions.updateInstallationTokens(subscriptionId, {
      accessTokenSealed: this.deps.vault.seal(result.access_token),
      refreshTokenSealed: result.refresh_token ? this.deps.vault.seal(result.refresh_token) : installation.refreshTokenSealed,
      expiresAt: result.expires_in ? now + result.expires_in * 1000 : null,
      updatedAt: now,
    });
    this.deps.logger.info({ subscriptionId }, 'OAuth token refreshed');
    return result.access_token;
  }

  private needsRefresh(installation: InstallationRow): boolean {
    if (installation.expiresAt === null || !installation.refreshTokenSealed) return false;
    const lifetime = Math.max(0, installation.expiresAt - installation.updatedAt);
    const margin = Math.min(MAX_MARGIN_MS, lifetime / 10);
    return this.now() >= installation.expiresAt - margin;
  }

  private tokenIfChanged(subscriptionId: string, staleToken: string): string | null {
    const installation = this.deps.subscriptions.getInstallation(subscriptionId);
    if (!installation) return null;
    const token = this.deps.vault.open(installation.accessTokenSealed);
    return token !== staleToken && !this.needsRefresh(installation) ? token : null;
  }
}

function failure(code: string, message: string, subscriptionId?: string, deps?: OAuthTokensDeps): DeliveryFailure {
  if (subscriptionId && deps) deps.subscriptions.markReauthRequired(subscriptionId);
  return new DeliveryFailure({ kind: 'permanent', code, message, reauthorize: true });
}

/** The OAuth tokens of this relay's subscriptions, for a web or worker process. */
export function createOAuthTokens(config: Config, core: Core, redis: Redis, slack: SlackClientFactory, logger: Logger): OAuthTokens {
  return new OAuthTokens({
    redis,
    keyPrefix: config.queuePrefix,
    subscriptions: core.subscriptions,
    vault: core.vault,
    slack,
    apiUrl: config.slack.apiUrl,
    oauth: config.slack.oauth,
    logger,
  });
}
