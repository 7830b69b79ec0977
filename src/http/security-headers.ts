import helmet from 'helmet';
import type { RequestHandler } from 'express';

/**
 * helmet's headers everywhere, with a strict Content-Security-Policy for our own pages (no script
 * at all, our one stylesheet, forms only to ourselves). Bull Board is a React app with inline
 * bootstrapping, so its path gets a policy of its own that allows what it needs, and no more.
 */
export function securityHeaders(options: { authorizeUrl: string }): { pages: RequestHandler; dashboard: RequestHandler } {
  // pages show subscriptions, records and CSRF tokens: nothing for a shared cache or the back button
  const noStore =
    (headers: RequestHandler): RequestHandler =>
    (req, res, next) => {
      res.setHeader('Cache-Control', 'no-store');
      headers(req, res, next);
    };
  // same-origin referrers let browsers send a real Origin with our own form posts
  const common = {
    crossOriginEmbedderPolicy: false,
    strictTransportSecurity: false,
    referrerPolicy: { policy: 'same-origin' },
  } as const;
  return {
    pages: noStore(helmet({
      ...common,
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          // the padlock is a POST form that the relay redirects to Slack's authorize page
          formAction: ["'self'", new URL(options.authorizeUrl).origin],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
        },
      },
    })),
    dashboard: noStore(helmet({
      ...common,
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'", "'unsafe-inline'"],
          styleSrc: ["'self'", "'unsafe-inline'", 'https://fonts.googleapis.com'],
          fontSrc: ["'self'", 'data:', 'https://fonts.gstatic.com'],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'self'"],
        },
      },
    })),
  };
}

/**
 * The API's JSON answers need only these two of helmet's headers (the rest are about pages), and
 * alert intake, the hot path, should not pay for the others.
 */
export const apiHeaders: RequestHandler = (_req, res, next) => {
  // answers name alerts, subscriptions and masked tokens: no cache, shared or private, keeps them
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  next();
};
