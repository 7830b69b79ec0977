import { randomBytes } from 'node:crypto';

/** Slack's OAuth codes expire after ten minutes. */
const CODE_TTL_MS = 10 * 60 * 1000;

export interface AuthCodeGrant {
  teamId: string;
  /** Set when the authorize page issued the code; codes from createAuthCode fit any client. */
  clientId?: string;
  /** Set when the authorize request named one; the exchange must then repeat it (if it sends one). */
  redirectUri?: string;
}

interface StoredGrant extends AuthCodeGrant {
  issuedAt: number;
}

export type RedeemResult =
  | { ok: true; grant: AuthCodeGrant }
  | { ok: false; error: 'invalid_code' | 'bad_redirect_uri' };

/** One-time OAuth authorization codes, as the authorize page hands them out. */
export class AuthCodes {
  private readonly grants = new Map<string, StoredGrant>();

  issue(grant: AuthCodeGrant, now = Date.now()): string {
    const code = `${Math.floor(now / 1000)}.${randomBytes(10).toString('hex')}`;
    this.grants.set(code, { ...grant, issuedAt: now });
    return code;
  }

  /**
   * Checks a code and uses it up. A code is consumed only by a successful
   * exchange, so a caller that got the redirect_uri wrong can still retry.
   */
  redeem(code: string, clientId: string, redirectUri: string | undefined, now = Date.now()): RedeemResult {
    const grant = this.grants.get(code);
    if (!grant || now - grant.issuedAt > CODE_TTL_MS) return { ok: false, error: 'invalid_code' };
    if (grant.clientId !== undefined && grant.clientId !== clientId) return { ok: false, error: 'invalid_code' };
    if (redirectUri !== undefined && grant.redirectUri !== undefined && redirectUri !== grant.redirectUri) {
      return { ok: false, error: 'bad_redirect_uri' };
    }
    this.grants.delete(code);
    const { issuedAt: _issuedAt, ...rest } = grant;
    return { ok: true, grant: rest };
  }
}
