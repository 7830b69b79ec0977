import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { isCrossSite } from '../same-site.js';

/**
 * CSRF protection for the pages' forms. Every form carries a token signed with a key derived from
 * ENCRYPTION_KEY (valid 12 hours), which a cross-site page cannot read; and a POST whose browser
 * says it came from another site (Sec-Fetch-Site, or an Origin of another host) is refused
 * outright. Basic auth alone would not stop a forged POST: browsers resend its credentials.
 */
const TOKEN_TTL_MS = 12 * 3600 * 1000;

export class Csrf {
  private readonly key: Buffer;

  constructor(secret: Buffer) {
    this.key = createHmac('sha256', secret).update('slack-alert-relay csrf').digest();
  }

  token(now = Date.now()): string {
    const issued = now.toString(36);
    return `${issued}.${this.sign(issued)}`;
  }

  verify(token: unknown, now = Date.now()): boolean {
    if (typeof token !== 'string') return false;
    const [issued, signature] = token.split('.');
    if (!issued || !signature) return false;
    const expected = Buffer.from(this.sign(issued));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return false;
    const age = now - parseInt(issued, 36);
    return age >= 0 && age < TOKEN_TTL_MS;
  }

  /** For POST routes: same-site requests with a valid `_csrf` field only. */
  protect(): RequestHandler {
    return (req, res, next) => {
      if (isCrossSite(req) || !this.verify((req.body as Record<string, unknown> | undefined)?._csrf)) {
        res.status(403).type('text/plain').send('This form is out of date or came from another site. Reload the page and try again.');
        return;
      }
      next();
    };
  }

  private sign(value: string): string {
    return createHmac('sha256', this.key).update(value).digest('base64url');
  }
}
