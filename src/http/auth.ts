import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../errors.js';

/** Compare secrets in constant time over their digests, so length leaks nothing either. */
export function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** A short, stable, non-reversible id of an API key: scopes idempotency keys, safe to store. */
export const apiKeyId = (key: string) => digest(key).toString('hex').slice(0, 16);

export function matchesAny(candidate: string, secrets: Buffer[]): boolean {
  const given = digest(candidate);
  let match = false;
  for (const secret of secrets) match = timingSafeEqual(given, secret) || match;
  return match;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      apiKeyId?: string;
    }
  }
}

/** `Authorization: Bearer <API key>` on /api (SPEC §5). */
export function requireApiKey(apiKeys: string[]): RequestHandler {
  const secrets = apiKeys.map(digest);
  // Keys already checked, with their ids: hashing every request's key twice was measurable.
  const known = new Map<string, string>();
  return (req, res, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    const key = match?.[1];
    let id = key === undefined ? undefined : known.get(key);
    if (key !== undefined && id === undefined && matchesAny(key, secrets)) {
      id = apiKeyId(key);
      known.set(key, id);
    }
    if (id === undefined) {
      res.set('WWW-Authenticate', 'Bearer realm="slack-alert-relay"');
      throw new AppError('unauthorized', 401, 'Send a valid API key as "Authorization: Bearer <key>".');
    }
    res.locals.apiKeyId = id;
    next();
  };
}

/** /metrics: an API key or the admin password, whichever the scraper has. */
export function requireApiKeyOrAdmin(apiKeys: RequestHandler, admin: RequestHandler): RequestHandler {
  return (req, res, next) => (/^Bearer\s/i.test(req.get('authorization') ?? '') ? apiKeys : admin)(req, res, next);
}
