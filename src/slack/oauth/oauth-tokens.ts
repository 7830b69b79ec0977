import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../../queues/redis.js';
import type { InstallationRow } from '../../db/rows.js';
import type { InstallationStore } from '../../db/stores.js';
import type { RedisKeys } from '../../limits/redis-keys.js';
import type { Logger } from '../../lib/logger.js';
import type { Vault } from '../../lib/vault.js';
import type { SlackClientFactory } from '../client-factory.js';
import { classifySlackError, DeliveryFailure } from '../errors.js';

/**
 * A subscription's OAuth access token, refreshed when token rotation is on (docs/contract.md §2):
 * before expiry (within a tenth of its lifetime, at most five minutes) and after Slack says
 * `token_expired`. Refresh tokens are single-use, so exactly one process spends each: a Redis lock
 * per subscription elects the refresher, and the others wait a moment for the new token to appear
 * in the database. A process that waits in vain gives its delivery back to the queue for a second
 * (a wait, not an attempt, and never a reason to re-authorise): the refresher is only slow.
 */

const MAX_MARGIN_MS = 5 * 60 * 1000;
/** how long the refresher may hold the lock: the exchange is one Slack call */
const LOCK_MS = 15_000;
/** how long another process waits for the refresher's new token before it gives its slot back */
const WAIT_FOR_REFRESH_MS = 2000;
const RETRY_AFTER_MS = 1000;
const RELEASE_LOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface OAuthTokensDeps {
  redis: RedisClient;
  keys: RedisKeys;
  installations: InstallationStore;
  /** a refresh token Slack refuses: the subscription needs authorising again */
  markReauthRequired(subscriptionId: string): Promise<void>;
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
    const installation = await this.deps.installations.get(subscriptionId);
    if (!installation) return null;
    const token = this.deps.vault.open(installation.accessTokenSealed);
    return this.needsRefresh(installation) ? this.refresh(subscriptionId, token) : token;
  }

  /**
   * Exchange the refresh token for a new pair, unless another process already did so since
   * `staleToken` was read; either way, answer the token that is current afterwards.
   */
  async refresh(subscriptionId: string, staleToken: string): Promise<string> {
    const key = this.deps.keys.oauthRefreshLock(subscriptionId);
    const owner = randomBytes(12).toString('hex');
    const deadline = this.now() + WAIT_FOR_REFRESH_MS;
    for (;;) {
      const fresh = await this.tokenIfChanged(subscriptionId, staleToken);
      if (fresh) return fresh;
      if ((await this.deps.redis.set(key, owner, 'PX', LOCK_MS, 'NX')) === 'OK') break;
      if (this.now() > deadline) {
        throw new DeliveryFailure({
          kind: 'wait',
          code: 'token_refresh_pending',
          message: 'Another process is refreshing the OAuth token; the delivery waits for it.',
          retryAfterMs: RETRY_AFTER_MS,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    try {
      return (await this.tokenIfChanged(subscriptionId, staleToken)) ?? (await this.exchange(subscriptionId));
    } finally {
      await this.deps.redis.eval(RELEASE_LOCK, 1, key, owner).catch(() => {});
    }
  }

  private async exchange(subscriptionId: string): Promise<string> {
    const installation = await this.deps.installations.get(subscriptionId);
    if (!installation?.refreshTokenSealed || !this.deps.oauth) {
      throw await this.reauthorize(subscriptionId, 'token_expired', 'The OAuth token expired and cannot be refreshed; authorise again.');
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
      throw await this.reauthorize(subscriptionId, classified.code, `Refreshing the OAuth token failed (${classified.code}); authorise again.`);
    }
    if (!result.access_token) throw await this.reauthorize(subscriptionId, 'token_expired', 'Slack returned no access token.');
    const now = this.now();
    await this.deps.installations.updateTokens(subscriptionId, {
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

  private async tokenIfChanged(subscriptionId: string, staleToken: string): Promise<string | null> {
    const installation = await this.deps.installations.get(subscriptionId);
    if (!installation) return null;
    const token = this.deps.vault.open(installation.accessTokenSealed);
    return token !== staleToken && !this.needsRefresh(installation) ? token : null;
  }

  /** The token cannot be refreshed: the subscription needs authorising again. */
  private async reauthorize(subscriptionId: string, code: string, message: string): Promise<DeliveryFailure> {
    await this.deps.markReauthRequired(subscriptionId);
    return new DeliveryFailure({ kind: 'permanent', code, message, reauthorize: true });
  }
}
