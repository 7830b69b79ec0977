import type { Request, RequestHandler } from 'express';

/**
 * Whether the browser says this request came from another site: `Sec-Fetch-Site`, or an `Origin`
 * of another host. Basic auth alone does not stop a forged request, because browsers resend cached
 * credentials with it; requests without either header (curl, scrapers) are not browsers' and pass.
 */
export function isCrossSite(req: Request): boolean {
  const site = req.get('sec-fetch-site');
  const origin = req.get('origin');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true;
  // `Origin: null` (sandboxed frames, some redirects) names no site; only Sec-Fetch-Site can vouch for it
  if (origin === 'null') return site !== 'same-origin';
  return origin !== undefined && hostOf(origin) !== req.get('host');
}

/** Every request that may change something (all but GET, HEAD, OPTIONS) must come from our own pages. */
export const refuseCrossSite: RequestHandler = (req, res, next) => {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS' || !isCrossSite(req)) return next();
  res.status(403).type('text/plain').send('Refused: this request came from another site.');
};

function hostOf(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}
