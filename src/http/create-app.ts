import express, { type Express } from 'express';
import type { AlertIntake } from '../alerts/alert-intake.js';
import type { AlertQueries } from '../alerts/alert-queries.js';
import type { SubscriptionService } from '../subscriptions/subscription-service.js';
import type { Logger } from '../lib/logger.js';
import type { AlertStore, SubscriptionStore } from '../db/stores.js';
import type { AlertLifecycle } from '../alerts/alert-lifecycle.js';
import type { Installer } from '../slack/oauth/installer.js';
import { once } from '../lib/once.js';
import { requireAdmin } from './admin-auth.js';
import { STYLESHEET } from './pages/stylesheet.js';
import { oauthRoutes } from './routes/oauth.js';
import { Csrf } from './pages/csrf.js';
import { pageRoutes, type PageDeps } from './pages/subscription-pages.js';
import { apiHeaders, securityHeaders } from './security-headers.js';
import type { AlertQueues } from '../queues/alert-queues.js';
import type { ManualSync } from '../subscriptions/manual-sync.js';
import { apiKeyAuth, requireAdminKeyOrPassword } from './auth.js';
import { refuseCrossSite } from './same-site.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { alertIntakeHandlers, alertRoutes } from './routes/alerts.js';
import { integrationHandlers } from './routes/integrations.js';
import { healthRoutes, type HealthChecks } from './routes/health.js';
import { subscriptionRoutes } from './routes/subscriptions.js';

export interface AppDeps {
  apiKeys: { intake: string[]; admin: string[] };
  adminPassword: string;
  publicUrl: string;
  /** SLACK_AUTHORIZE_URL: where the padlock's form is redirected */
  authorizeUrl: string;
  installer: Installer | null;
  subscriptionStore: SubscriptionStore;
  subscriptions: SubscriptionService;
  intake: AlertIntake;
  queries: AlertQueries;
  health: HealthChecks;
  metrics: { contentType: string; render(): Promise<string> };
  queues: AlertQueues;
  alerts: AlertStore;
  lifecycle: AlertLifecycle;
  sync: ManualSync;
  /** derives the CSRF key and the API keys' ids */
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
  // Intake keys may send alerts and read their own; everything else needs an admin key (§6.1).
  const auth = apiKeyAuth(deps.apiKeys, deps.secret);
  const intake = alertIntakeHandlers(deps.intake);
  app.post('/api/v1/alerts', apiHeaders, auth.anyKey, ...intake.one);
  app.post('/api/v1/alerts/batch', apiHeaders, auth.anyKey, ...intake.batch);
  const integrations = integrationHandlers(deps.intake);
  app.post('/api/v1/integrations/alertmanager', apiHeaders, auth.anyKey, ...integrations.alertmanager);
  app.post('/api/v1/integrations/grafana', apiHeaders, auth.anyKey, ...integrations.grafana);
  const api = express.Router();
  api.use(apiHeaders);
  api.use('/subscriptions', auth.adminKey, subscriptionRoutes(deps.subscriptions, deps.sync));
  api.use('/alerts', auth.anyKey, alertRoutes(deps.queries));
  app.use('/api/v1', api);
  // Unknown /api paths are 401 without a key (nothing is revealed), 404 with one.
  app.use('/api', apiHeaders, auth.anyKey, notFoundHandler);

  app.use(healthRoutes(deps.health));
  const headers = securityHeaders({ authorizeUrl: deps.authorizeUrl });
  app.get('/assets/relay.css', (_req, res) => {
    res.type('css').set('Cache-Control', 'public, max-age=3600').send(STYLESHEET);
  });
  const admin = requireAdmin(deps.adminPassword);
  // Bull Board is loaded when first opened: until then the web process does not carry its ≈ 14 MB.
  const dashboard = once(async () => {
    const { dashboardRouter } = await import('./dashboard.js');
    return dashboardRouter(DASHBOARD_PATH, deps.queues, (ids) => deps.lifecycle.retried(ids));
  });
  // Basic auth is resent by browsers on forged requests too: nothing that changes state may come cross-site.
  app.use(DASHBOARD_PATH, headers.dashboard, refuseCrossSite, admin, async (req, res, next) => (await dashboard())(req, res, next));
  app.use(headers.pages);
  const csrf = new Csrf(deps.secret);
  app.use(oauthRoutes({ installer: deps.installer, subscriptions: deps.subscriptionStore, publicUrl: deps.publicUrl, requireAdmin: admin, csrf, logger: deps.logger }));

  app.get('/metrics', requireAdminKeyOrPassword(auth.adminKey, admin), async (_req, res) => {
    res.set('Content-Type', deps.metrics.contentType).send(await deps.metrics.render());
  });

  app.use(
    refuseCrossSite,
    admin,
    pageRoutes({
      subscriptions: deps.subscriptions,
      queries: deps.queries,
      alerts: deps.alerts,
      sync: deps.sync,
      csrf,
      oauthConfigured: deps.installer !== null,
      defaults: deps.pageDefaults,
    }),
  );

  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
