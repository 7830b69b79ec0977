import { isPlaceholder } from '../lib/vault.js';
import type { TokenSource } from '../domain.js';

/**
 * docs/contract.md §2, decided at delivery time: a stored OAuth access token wins; else the subscription's
 * bot token unless it is the placeholder; else nothing (the delivery fails `not_authorized`).
 * The OAuth token only ever goes to SLACK_API_URL, where it was issued; the bot token goes to the
 * subscription's apiUrl.
 */
export interface PickedToken {
  source: TokenSource;
  token: string;
  apiUrl: string;
}

export interface TokenCandidates {
  /** the decrypted OAuth access token of the subscription's installation, if any */
  oauthToken: string | null;
  /** the decrypted `apiToken` of the subscription (may be the placeholder `-`) */
  botToken: string;
  /** the subscription's apiUrl */
  subscriptionApiUrl: string;
  /** SLACK_API_URL */
  oauthApiUrl: string;
}

export function pickToken(candidates: TokenCandidates): PickedToken | null {
  if (candidates.oauthToken) {
    return { source: 'oauth', token: candidates.oauthToken, apiUrl: candidates.oauthApiUrl };
  }
  if (candidates.botToken.trim() !== '' && !isPlaceholder(candidates.botToken)) {
    return { source: 'bot_token', token: candidates.botToken, apiUrl: candidates.subscriptionApiUrl };
  }
  return null;
}
