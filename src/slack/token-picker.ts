import type { SubscriptionRow } from '../db/rows.js';
import type { Vault } from '../lib/vault.js';
import type { EgressPolicy } from './egress-policy.js';
import { DeliveryFailure, permanentFailure } from './errors.js';
import type { OAuthTokens } from './oauth/oauth-tokens.js';
import { pickToken, type PickedToken } from './token-precedence.js';

/**
 * The token a delivery or a sync uses now, and where it may go (docs/contract.md §2, §6.2): the
 * precedence rule over the stored OAuth token (refreshed if due) and the sealed bot token, then the
 * egress policy on the URL it would be sent to. Throws `not_authorized` or `api_url_not_allowed`.
 */
export class TokenPicker {
  constructor(
    private readonly deps: { vault: Vault; oauthTokens: OAuthTokens; egress: EgressPolicy; oauthApiUrl: string },
  ) {}

  async pick(subscription: SubscriptionRow): Promise<PickedToken> {
    const picked = pickToken({
      oauthToken: await this.deps.oauthTokens.current(subscription.id),
      botToken: this.deps.vault.open(subscription.apiTokenSealed),
      subscriptionApiUrl: subscription.apiUrl,
      oauthApiUrl: this.deps.oauthApiUrl,
    });
    if (!picked) throw new DeliveryFailure(permanentFailure('not_authorized'));
    // a subscription saved before the allow-list, or under another ALLOWED_API_URLS
    if (!this.deps.egress.allows(picked.apiUrl)) throw new DeliveryFailure(permanentFailure('api_url_not_allowed'));
    return picked;
  }

  /** A rotated OAuth token Slack called expired: the token to use instead (spends the refresh token once). */
  refresh(subscriptionId: string, staleToken: string): Promise<string> {
    return this.deps.oauthTokens.refresh(subscriptionId, staleToken);
  }
}
