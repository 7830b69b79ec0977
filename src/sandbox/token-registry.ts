import { randomBytes } from 'node:crypto';

/**
 * Any token shaped like a bot or user token is accepted, so tests can make up
 * tokens freely; rotated (`xoxe.`) ones too, so a relay that stored a rotated
 * token keeps working when the sandbox restarts.
 */
const ACCEPTED_TOKEN = /^(xoxe\.)?xox[bp]-/;

export type TokenCheck =
  | { ok: true; teamId: string | null }
  | { ok: false; error: 'not_authed' | 'invalid_auth' | 'token_revoked' | 'token_expired' };

export interface IssuedTokens {
  accessToken: string;
  /** Only in rotation mode. */
  refreshToken?: string;
  expiresIn?: number;
  teamId: string;
}

interface IssuedAccessToken {
  teamId: string;
  /** Epoch ms; null for tokens that never expire. */
  expiresAt: number | null;
}

export interface IssueOptions {
  teamId: string;
  rotate: boolean;
  ttlSeconds: number;
}

/** Which tokens are valid, which were revoked, and the tokens issued through OAuth. */
export class TokenRegistry {
  private readonly revoked = new Set<string>();
  private readonly accessTokens = new Map<string, IssuedAccessToken>();
  /** Unused refresh tokens; a refresh token is deleted when it is exchanged. */
  private readonly refreshTokens = new Map<string, IssueOptions>();

  /** teamId is null for made-up tokens, which belong to the sandbox's own team. */
  check(token: string | null, now = Date.now()): TokenCheck {
    if (!token) return { ok: false, error: 'not_authed' };
    if (this.revoked.has(token)) return { ok: false, error: 'token_revoked' };
    const issued = this.accessTokens.get(token);
    if (issued) {
      if (issued.expiresAt !== null && now >= issued.expiresAt) return { ok: false, error: 'token_expired' };
      return { ok: true, teamId: issued.teamId };
    }
    return ACCEPTED_TOKEN.test(token) ? { ok: true, teamId: null } : { ok: false, error: 'invalid_auth' };
  }

  revoke(token: string): void {
    this.revoked.add(token);
    this.refreshTokens.delete(token);
  }

  issue(options: IssueOptions, now = Date.now()): IssuedTokens {
    if (!options.rotate) {
      const accessToken = `xoxb-sandbox-${randomHex()}`;
      this.accessTokens.set(accessToken, { teamId: options.teamId, expiresAt: null });
      return { accessToken, teamId: options.teamId };
    }
    const accessToken = `xoxe.xoxb-1-sandbox-${randomHex()}`;
    const refreshToken = `xoxe-1-sandbox-${randomHex()}`;
    this.accessTokens.set(accessToken, { teamId: options.teamId, expiresAt: now + options.ttlSeconds * 1000 });
    this.refreshTokens.set(refreshToken, options);
    return { accessToken, refreshToken, expiresIn: options.ttlSeconds, teamId: options.teamId };
  }

  /**
   * Exchanges a refresh token for a new pair. The old refresh token stops
   * working; the old access token stays valid until it expires, as on Slack.
   */
  refresh(refreshToken: string, now = Date.now()): IssuedTokens | null {
    const options = this.refreshTokens.get(refreshToken);
    if (!options) return null;
    this.refreshTokens.delete(refreshToken);
    return this.issue(options, now);
  }
}

function randomHex(): string {
  return randomBytes(12).toString('hex');
}
