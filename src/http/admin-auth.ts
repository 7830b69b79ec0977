import type { RequestHandler } from 'express';
import { digest, matchesAny } from './auth.js';

/** HTTP basic auth, user `admin`, ADMIN_PASSWORD: the pages, the padlock and the dashboard. */
export function requireAdmin(password: string): RequestHandler {
  const secret = [digest(`admin:${password}`)];
  return (req, res, next) => {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.get('authorization') ?? '');
    const given = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
    if (match && matchesAny(given, secret)) return next();
    res.set('WWW-Authenticate', 'Basic realm="Slack Alert Relay", charset="UTF-8"');
    res.status(401).type('text/plain').send('Sign in as "admin" with ADMIN_PASSWORD.');
  };
}
