import express, { type Express } from 'express';
import type { AlertIntake } from '../alerts/alert-intake.js';
import type { AlertQueries } from '../alerts/alert-queries.js';
import type { SubscriptionService } from '../subscriptions/subscription-service.js';
import type { Logger } from '../lib/logger.js';
import type { SubscriptionStore } from '../subscriptions/subscription-store.js';
import type { Installer } from '../slack/oauth/installer.js';
import { once } from '../lib/once.js';
import { requireAdmin } from './admin-auth.js';
import { STYLESHEET } from './pages/stylesheet.js';
import { oauthRoutes } from './routes/oauth.js';
import { Csrf } from './pages/csrf.js';
import { pageRoutes, type PageDeps } from './pages/subscription-pages.js';
import { apiHeaders, securityHeaders } from './security-headers.js';
import type { AlertQueues } from '../queues/alert-queues.js';
import type { AlertStore } from '../alerts/alert-store.js';
import type { ManualSync } from '../subscriptions/manual-sync.js';
import { requireApiKey, requireApiKeyOrAdmin } from './auth.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { alertIntakeHandlers, alertRoutes } from './routes/alerts.js';
import { healthRoutes, type HealthChecks } from './routes/health.js';
import { subscriptionRoutes } from './routes/subscriptions.js';

export interface AppDeps {
  apiKeys: string[];
  adminPassword: string;
  publicUrl: string;
  installer: Installer | null;
  subscriptionStore: SubscriptionStore;
  subscriptions: SubscriptionService;
  intake: AlertIntake;
  queries: AlertQueries;
  health: HealthChecks;
  metrics: () => Promise<string>;
  queues: AlertQueues;
  alerts: AlertStore;
  sync: ManualSync;
  /** derives the CSRF key */
  secret: Buffer;
  pageDefaults: PageDeps['defaults'];
  logger: Logger;
}

export const DASHBOARD_PATH = '/admin/queues';

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');

  // The API first, alert intake first of all and flat: it is the hot path, and needs none of the
  // page middleware below.
  const apiKey = requireApiKey(deps.apiKeys);
  const intake = alertIntakeHandlers(deps.intake);
  app.post('/api/v1/alerts', apiHeaders, apiKey, ...intake.one);
  app.post('/api/v1/alerts/batch', apiHeaders, apiKey, ...intake.batch);
  const api = express.Router();
  api.use(apiHeaders, apiKey);
  api.use('/subscriptions', subscriptionRoutes(deps.subscriptions, deps.sync));
  api.use('/alerts', alertRoutes(deps.queries));
  app.use('/api/v1', api);
  // Unknown /api paths are 401 without a key (nothing is revealed), 404 with one.
  app.use('/api', apiHeaders, apiKey, notFoundHandler);

  app.use(healthRoutes(deps.health));
  const headers = securityHeaders();
  app.get('/assets/relay.css', (_req, res) => {
    res.type('css').set('Cache-Control', 'public, max-age=3600').send(STYLESHEET);
  });
  const admin = requireAdmin(deps.adminPassword);
  // Bull Board is loaded when first opened: until then the web process does not carry its ≈ 14 MB.
  const dashboard = once(async () => {
    const { dashboardRouter } = await import('./dashboard.js');
    return dashboardRouter(DASHBOARD_PATH, deps.queues, (ids) => ids.forEach((id) => deps.alerts.markRetried(id)));
  });
  app.use(DASHBOARD_PATH, headers.dashboard, admin, async (req, res, next) => (await dashboard())(req, res, next));
  app.use(headers.pages);
  app.use(oauthRoutes({ installer: deps.installer, subscriptions: deps.subscriptionStore, publicUrl: deps.publicUrl, requireAdmin: admin }));

  app.get('/metrics', requireApiKeyOrAdmin(apiKey, admin), async (_req, res) => {
    res.type('text/plain; version=0.0.4').send(await deps.metrics());
  });

  app.use(
    admin,
    pageRoutes({
      subscriptions: deps.subscriptions,
      queries: deps.queries,
      alerts: deps.alerts,
      sync: deps.sync,
      csrf: new Csrf(deps.secret),
      oauthConfigured: deps.installer !== null,
      defaults: deps.pageDefaults,
    }),
  );

  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
