import type { AlertIntake } from '../alerts/alert-intake.js';
import type { LastSync } from '../db/schema.js';
import { notFound } from '../errors.js';
import type { Vault } from '../lib/vault.js';
import { classifySlackError, permanentFailure } from '../slack/classify-error.js';
import type { SlackClientFactory } from '../slack/client-factory.js';
import type { EgressPolicy } from '../slack/egress-policy.js';
import { DeliveryFailure } from '../slack/member-directory.js';
import type { OAuthTokens } from '../slack/oauth/oauth-tokens.js';
import { pickToken } from '../slack/token-precedence.js';
import type { SubscriptionStore } from './subscription-store.js';

export const SYNC_MESSAGE = 'Test message from Slack Alert Relay';

/**
 * The manual sync (SPEC §3): `auth.test` with the token the precedence rule picks, then a test DM
 * to the designated member as an `initial` alert with its own record. The outcome is kept as the
 * subscription's `lastSync`; the worker settles it when the test DM is delivered or fails.
 */
export class ManualSync {
  constructor(
    private readonly deps: {
      store: SubscriptionStore;
      vault: Vault;
      slack: SlackClientFactory;
      oauthTokens: OAuthTokens;
      intake: AlertIntake;
      oauthApiUrl: string;
      egress: EgressPolicy;
      now?: () => number;
    },
  ) {}

  async run(subscriptionId: string): Promise<{ alertId: string | null; lastSync: LastSync }> {
    const { store } = this.deps;
    const subscription = store.get(subscriptionId);
    if (!subscription) throw notFound(`No subscription ${JSON.stringify(subscriptionId)}.`);
    const at = new Date((this.deps.now ?? Date.now)()).toISOString();
    const finish = (lastSync: LastSync) => {
      store.recordLastSync(subscriptionId, lastSync);
      return { alertId: lastSync.alertId, lastSync };
    };

    let picked;
    try {
      picked = pickToken({
        oauthToken: await this.deps.oauthTokens.current(subscriptionId),
        botToken: this.deps.vault.open(subscription.apiTokenSealed),
        subscriptionApiUrl: subscription.apiUrl,
        oauthApiUrl: this.deps.oauthApiUrl,
      });
      if (!picked) throw new DeliveryFailure(permanentFailure('not_authorized'));
      if (!this.deps.egress.allows(picked.apiUrl)) throw new DeliveryFailure(permanentFailure('api_url_not_allowed'));
      const result = await this.deps.slack.client(picked.apiUrl, picked.token).auth.test();
      if (result.team_id) store.recordTeam(subscriptionId, { id: result.team_id, name: result.team ?? '' });
    } catch (error) {
      const failure = error instanceof DeliveryFailure ? error.failure : classifySlackError(error);
      if (failure.kind === 'permanent' && failure.reauthorize) store.markReauthRequired(subscriptionId);
      return finish({ status: 'failed', at, error: { code: failure.code, message: failure.message }, alertId: null });
    }

    if (!subscription.recipient) return finish({ status: 'ok', at, error: null, alertId: null });
    const alert = await this.deps.intake.acceptOne(
      { subscription: subscriptionId, title: 'Slack Alert Relay', text: SYNC_MESSAGE, transfer: 'initial' },
      { caller: null },
    );
    return finish({ status: 'ok', at, error: null, alertId: alert.id });
  }
}
