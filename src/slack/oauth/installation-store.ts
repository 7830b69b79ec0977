import type { Installation, InstallationQuery, InstallationStore as SlackInstallationStore } from '@slack/oauth';
import type { InstallationStore } from '../../db/stores.js';
import type { Vault } from '../../lib/vault.js';
import { untrustedText } from '../../lib/redact.js';
import { remoteId } from '../errors.js';

/**
 * Stores what an OAuth exchange returned for the subscription that started the flow (carried as
 * the flow's metadata), with its tokens sealed. A new authorisation replaces the old one and
 * clears "Re-authorization required".
 */
export class SubscriptionInstallationStore implements SlackInstallationStore {
  constructor(
    private readonly store: InstallationStore,
    private readonly vault: Vault,
    private readonly now: () => number = Date.now,
  ) {}

  async storeInstallation(installation: Installation): Promise<void> {
    const subscriptionId = installation.metadata;
    const bot = installation.bot;
    if (!subscriptionId || !bot?.token) throw new Error('the installation has no subscription or no bot token');
    await this.store.save({
      subscriptionId,
      teamId: remoteId(installation.team?.id) ?? null,
      teamName: installation.team?.name === undefined ? null : untrustedText(installation.team.name, 100),
      botUserId: bot.userId ?? null,
      scopes: bot.scopes?.join(',') ?? null,
      accessTokenSealed: this.vault.seal(bot.token),
      refreshTokenSealed: bot.refreshToken ? this.vault.seal(bot.refreshToken) : null,
      expiresAt: bot.expiresAt ? bot.expiresAt * 1000 : null,
      createdAt: this.now(),
      updatedAt: this.now(),
    });
  }

  async fetchInstallation(_query: InstallationQuery<boolean>): Promise<Installation> {
    // The relay looks installations up by subscription, never by team.
    throw new Error('installations are looked up by subscription, not by team');
  }
}
