import type { AlertIntake } from '../alerts/alert-intake.js';
import type { AlertInput, LastSync } from '../domain.js';
import type { SubscriptionStore } from '../db/stores.js';
import { notFound } from '../errors.js';
import { untrustedText } from '../lib/redact.js';
import { classifySlackError, remoteId } from '../slack/errors.js';
import type { SlackGateway } from '../slack/gateway.js';
import type { TokenPicker } from '../slack/token-picker.js';
import type { SubscriptionState } from './subscription-state.js';

export const SYNC_MESSAGE = 'Test message from Slack Alert Relay';

/**
 * The manual sync (docs/contract.md §3): `auth.test` with the token the precedence rule picks,
 * then a test DM to the designated member as an `initial` alert with its own record. The outcome
 * is kept as the subscription's `lastSync`: `pending` until the test DM has an outcome, which the
 * record lifecycle's hook settles (`ok` or `failed`). With no designated member, `auth.test` alone
 * decides.
 */
export class ManualSync {
  constructor(
    private readonly deps: {
      store: SubscriptionStore;
      state: SubscriptionState;
      tokens: TokenPicker;
      slack: SlackGateway;
      intake: AlertIntake;
      now?: () => number;
    },
  ) {}

  async run(subscriptionId: string): Promise<{ alertId: string | null; lastSync: LastSync }> {
    const { store, state } = this.deps;
    const subscription = await store.get(subscriptionId);
    if (!subscription) throw notFound(`No subscription ${JSON.stringify(subscriptionId)}.`);
    const at = new Date((this.deps.now ?? Date.now)()).toISOString();
    const finish = async (lastSync: LastSync) => {
      await state.recordLastSync(subscriptionId, lastSync);
      return { alertId: lastSync.alertId, lastSync };
    };

    try {
      const picked = await this.deps.tokens.pick(subscription);
      const result = await this.deps.slack.session({ subscriptionId, ...picked }).call('auth.test', {});
      const teamId = remoteId(result.team_id);
      if (teamId) await state.recordTeam(subscriptionId, { id: teamId, name: untrustedText(result.team ?? '', 100) });
    } catch (error) {
      const failure = classifySlackError(error);
      if (failure.kind === 'permanent' && failure.reauthorize) await state.markReauthRequired(subscriptionId);
      return finish({ status: 'failed', at, error: { code: failure.code, message: failure.message }, alertId: null });
    }

    if (!subscription.recipient) return finish({ status: 'ok', at, error: null, alertId: null });
    const input: AlertInput = {
      subscription: subscriptionId,
      message: { title: 'Slack Alert Relay', text: SYNC_MESSAGE, severity: 'info' },
      transfer: 'initial',
      event: 'firing',
    };
    // lastSync names the test alert before the alert can have an outcome, so its settling finds it
    const alertId = this.deps.intake.newId();
    await state.recordLastSync(subscriptionId, { status: 'pending', at, error: null, alertId });
    try {
      await this.deps.intake.accept([input], { caller: null, ids: [alertId] });
    } catch (error) {
      // nothing was queued (Redis or the database refused): the sync did not happen
      await finish({ status: 'failed', at, error: { code: 'unavailable', message: 'The test message could not be queued.' }, alertId: null });
      throw error;
    }
    return { alertId, lastSync: { status: 'pending', at, error: null, alertId } };
  }
}
