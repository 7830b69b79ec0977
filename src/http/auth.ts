import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../errors.js';

/** Compare secrets in constant time over their digests, so length leaks nothing either. */
export function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function matchesAny(candidate: string, secrets: Buffer[]): boolean {
  const given = digest(candidate);
  let match = false;
  for (const secret of secrets) match = timingSafeEqual(given, secret) || match;
  return match;
}

/**
 * A stable id of an API key, safe to store beside the records it sent: a keyed HMAC (the key is
 * derived from ENCRYPTION_KEY), so a weak key cannot be recovered from the database by hashing
 * guesses.
 */
export function apiKeyIds(secret: Buffer): (key: string) => string {
  const hmacKey = createHmac('sha256', secret).update('slack-alert-relay api-key-id').digest();
  return (key) => createHmac('sha256', hmacKey).update(key).digest('hex').slice(0, 32);
}

/** Who is calling /api (docs/contract.md §6.1): an intake key of one upstream system, or an admin key. */
export interface Caller {
  role: 'intake' | 'admin';
  /** the HMAC id of the key: scopes idempotency keys, quotas and which records it may read */
  keyId: string;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      caller?: Caller;
    }
  }
}

export interface ApiKeyAuth {
  /** any valid key: intake routes */
  anyKey: RequestHandler;
  /** admin keys only; an intake key gets 403 forbidden */
  adminKey: RequestHandler;
}

/** `Authorization: Bearer <API key>` on /api. */
export function apiKeyAuth(keys: { intake: string[]; admin: string[] }, secret: Buffer): ApiKeyAuth {
  const idOf = apiKeyIds(secret);
  const intake = keys.intake.map(digest);
  const admin = keys.admin.map(digest);
  // Keys already checked, with their callers: hashing every request's key twice was measurable.
  const known = new Map<string, Caller>();
  const identify = (key: string): Caller | undefined => {
    let caller = known.get(key);
    if (!caller) {
      const role = matchesAny(key, admin) ? 'admin' : matchesAny(key, intake) ? 'intake' : undefined;
      if (!role) return undefined;
      caller = { role, keyId: idOf(key) };
      known.set(key, caller);
    }
    return caller;
  };
  const anyKey: RequestHandler = (req, res, next) => {
    const key = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
    const caller = key === undefined ? undefined : identify(key);
    if (!caller) {
      res.set('WWW-Authenticate', 'Bearer realm="slack-alert-relay"');
      throw new AppError('unauthorized', 401, 'Send a valid API key as "Authorization: Bearer <key>".');
    }
    res.locals.caller = caller;
    next();
  };
  const adminKey: RequestHandler = (req, res, next) => {
    anyKey(req, res, () => {
      if (res.locals.caller?.role !== 'admin') {
        throw new AppError('forbidden', 403, 'This route needs an admin key (ADMIN_API_KEYS); intake keys may only send alerts and read their own.');
      }
      next();
    });
  };
  return { anyKey, adminKey };
}

/** /metrics: an admin key or the admin password, whichever the scraper has. */
export function requireAdminKeyOrPassword(adminKey: RequestHandler, password: RequestHandler): RequestHandler {
  return (req, res, next) => (/^Bearer\s/i.test(req.get('authorization') ?? '') ? adminKey : password)(req, res, next);
}
