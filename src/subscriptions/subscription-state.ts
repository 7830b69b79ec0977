import type { FinalOutcomeHook } from '../alerts/alert-lifecycle.js';
import type { LastSync } from '../domain.js';
import type { SubscriptionStore } from '../db/stores.js';

/**
 * What deliveries and syncs change on a subscription: "Re-authorization required" (docs/contract.md
 * §2), the team last seen by `auth.test`, and the manual sync's `lastSync`, settled when its test
 * message reaches a final outcome (through the record lifecycle's hook).
 */
export class SubscriptionState {
  constructor(
    private readonly store: SubscriptionStore,
    private readonly now: () => number = Date.now,
  ) {}

  async markReauthRequired(id: string): Promise<void> {
    await this.store.update(id, { reauthRequired: true, updatedAt: this.now() });
  }

  async recordTeam(id: string, team: { id: string; name: string }): Promise<void> {
    await this.store.update(id, { teamId: team.id, teamName: team.name });
  }

  async recordLastSync(id: string, lastSync: LastSync): Promise<void> {
    await this.store.update(id, { lastSync });
  }

  /** The record lifecycle's final-outcome hook. */
  readonly onFinalOutcome: FinalOutcomeHook = async ({ record, failure }) => {
    if (failure?.reauthorize) await this.markReauthRequired(record.subscriptionId);
    // only the relay's own alerts (sent with no API key) can be a sync's test message
    if (record.apiKeyId === null) await this.settleSync(record.subscriptionId, record.id, failure && { code: failure.code, message: failure.message });
  };

  /** The manual sync's test message has an outcome: the sync is `ok` only if it was delivered. */
  private async settleSync(subscriptionId: string, alertId: string, error: { code: string; message: string } | null): Promise<void> {
    const lastSync = (await this.store.get(subscriptionId))?.lastSync;
    if (lastSync?.alertId !== alertId) return;
    await this.recordLastSync(subscriptionId, { ...lastSync, status: error ? 'failed' : 'ok', error });
  }
}
