import slackOAuth, { type InstallProvider as InstallProviderType } from '@slack/oauth';
import type { Config } from '../../config.js';
import type { Stores } from '../../db/stores.js';
import type { Logger } from '../../lib/logger.js';
import type { Vault } from '../../lib/vault.js';
import { silentSlackLogger, slackClientOptions } from '../client-factory.js';
import type { EgressPolicy } from '../egress-policy.js';
import { SubscriptionInstallationStore } from './installation-store.js';
import { SingleUseStateStore, STATE_TTL_MS } from './single-use-state-store.js';

const { InstallProvider } = slackOAuth;
export type Installer = InstallProviderType;

/** The scopes the relay needs (docs/contract.md §2). */
export const OAUTH_SCOPES = ['chat:write', 'im:write', 'im:history', 'users:read', 'users:read.email'];

export const redirectUri = (publicUrl: string) => `${publicUrl}/oauth/callback`;

/**
 * The relay's own Slack app (SLACK_CLIENT_ID & co.), or null when it is not configured. The
 * exchange goes to SLACK_API_URL; the client never retries by itself; the state is single-use and
 * bound to this browser by the library's state cookie.
 */
export function createInstaller(deps: {
  config: Pick<Config, 'slack' | 'publicUrl'>;
  stores: Pick<Stores, 'installations' | 'oauthStates'>;
  vault: Vault;
  logger: Logger;
  egress: EgressPolicy;
}): Installer | null {
  const { slack } = deps.config;
  if (!slack.oauth) return null;
  return new InstallProvider({
    clientId: slack.oauth.clientId,
    clientSecret: slack.oauth.clientSecret,
    stateSecret: slack.oauth.stateSecret,
    stateStore: new SingleUseStateStore(deps.stores.oauthStates),
    stateCookieExpirationSeconds: STATE_TTL_MS / 1000,
    installationStore: new SubscriptionInstallationStore(deps.stores.installations, deps.vault),
    directInstall: true,
    authorizationUrl: slack.authorizeUrl,
    installUrlOptions: { scopes: OAUTH_SCOPES, redirectUri: redirectUri(deps.config.publicUrl) },
    clientOptions: slackClientOptions(slack.apiUrl, { timeoutMs: slack.timeoutMs, logger: deps.logger.child({ component: 'oauth' }), egress: deps.egress }),
    logger: silentSlackLogger(),
  });
}
