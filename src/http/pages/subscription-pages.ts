import express, { Router, type Request, type Response } from 'express';
import { OPERATOR, type AlertQueries } from '../../alerts/alert-queries.js';
import type { AlertStore } from '../../db/stores.js';
import type { ThrottleSettings } from '../../domain.js';
import { AppError } from '../../errors.js';
import { isPlaceholder, PLACEHOLDER } from '../../lib/vault.js';
import { ALERT_STATUSES, TRANSFERS } from '../../domain.js';
import type { ManualSync } from '../../subscriptions/manual-sync.js';
import type { SubscriptionService, SubscriptionView } from '../../subscriptions/subscription-service.js';
import type { Csrf } from './csrf.js';
import { messagePage, sendPage } from './layout.js';
import { listPage, settingsPage, subscriptionForm, type FieldErrors, type FormValues } from './views.js';

/**
 * The operator's pages (admin auth is applied where they are mounted). Forms post to these routes,
 * which call the same services as the API; every POST is CSRF-checked and answers with a redirect
 * (or the form again, with its errors, when nothing was saved).
 */

export interface PageDeps {
  subscriptions: SubscriptionService;
  queries: AlertQueries;
  alerts: AlertStore;
  sync: ManualSync;
  csrf: Csrf;
  oauthConfigured: boolean;
  defaults: { apiUrl: string; throttle: ThrottleSettings };
}

const NOTICES: Record<string, string> = {
  created: 'Subscription created. Authorise it with the padlock, or check its bot token with a manual sync.',
  saved: 'Settings saved.',
  synced: 'Manual sync run: its result is below.',
  forgotten: 'The OAuth token was forgotten; the API Token applies again.',
  deleted: 'Subscription deleted. Its alert records are kept.',
};

export function pageRoutes(deps: PageDeps): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '64kb' });
  const protect = deps.csrf.protect();
  const note = (req: Request) => NOTICES[String(req.query.notice ?? '')];

  router.get('/', async (req, res) => {
    const counts: Record<string, number> = Object.fromEntries(ALERT_STATUSES.map((status) => [status, 0]));
    for (const row of await deps.alerts.countsByOutcome()) counts[row.status] = (counts[row.status] ?? 0) + row.count;
    sendPage(res, 200, 'Subscriptions', listPage(await deps.subscriptions.list(), counts, note(req)));
  });

  router.get('/subscriptions/new', (_req, res) => renderNew(res, defaultsToValues(deps.defaults), {}));

  router.post('/subscriptions', form, protect, async (req, res) => {
    try {
      const created = await deps.subscriptions.create(fromForm(req.body));
      res.redirect(303, `/subscriptions/${created.id}?notice=created`);
    } catch (error) {
      renderNew(res, withoutToken(req.body, ''), fieldErrors(error), 400);
    }
  });

  router.get('/subscriptions/:id', async (req, res) => {
    const sub = await find(res, String(req.params.id));
    if (sub) await renderSettings(req, res, sub, toValues(sub), {});
  });

  router.post('/subscriptions/:id', form, protect, async (req, res) => {
    const sub = await find(res, String(req.params.id));
    if (!sub) return;
    try {
      await deps.subscriptions.update(sub.id, fromForm(req.body));
      res.redirect(303, `/subscriptions/${sub.id}?notice=saved`);
    } catch (error) {
      await renderSettings(req, res, sub, withoutToken(req.body, sub.apiToken), fieldErrors(error), 400);
    }
  });

  router.post('/subscriptions/:id/sync', form, protect, async (req, res) => {
    const sub = await find(res, String(req.params.id));
    if (!sub) return;
    await deps.sync.run(sub.id);
    res.redirect(303, `/subscriptions/${sub.id}?notice=synced`);
  });

  router.post('/subscriptions/:id/authorization/delete', form, protect, async (req, res) => {
    const sub = await find(res, String(req.params.id));
    if (!sub) return;
    await deps.subscriptions.forgetAuthorization(sub.id);
    res.redirect(303, `/subscriptions/${sub.id}?notice=forgotten`);
  });

  router.post('/subscriptions/:id/delete', form, protect, async (req, res) => {
    const sub = await find(res, String(req.params.id));
    if (!sub) return;
    await deps.subscriptions.delete(sub.id);
    res.redirect(303, '/?notice=deleted');
  });

  async function find(res: Response, id: string): Promise<SubscriptionView | null> {
    try {
      return await deps.subscriptions.get(id);
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'not_found')) throw error;
      messagePage(res, 404, { title: 'No such subscription', message: 'It may have been deleted.', next: { href: '/', label: 'Back to the subscriptions' } });
      return null;
    }
  }

  function renderNew(res: Response, values: FormValues, errors: FieldErrors, status = 200) {
    sendPage(res, status, 'New subscription', subscriptionForm('/subscriptions', values, errors, deps.csrf.token(), 'Create subscription'));
  }

  async function renderSettings(req: Request, res: Response, sub: SubscriptionView, values: FormValues, errors: FieldErrors, status = 200) {
    const alerts = await deps.queries.list({ subscription: sub.id, limit: '20' }, OPERATOR);
    const syncAlertId = sub.lastSync?.alertId;
    const page = settingsPage({
      sub,
      alerts,
      syncAlert: syncAlertId ? await deps.queries.get(syncAlertId, OPERATOR).catch(() => null) : null,
      oauthConfigured: deps.oauthConfigured,
      form: subscriptionForm(`/subscriptions/${sub.id}`, values, errors, deps.csrf.token(), 'Save settings'),
      csrf: deps.csrf.token(),
      note: note(req),
    });
    sendPage(res, status, sub.name, page);
  }

  return router;
}

const KINDS = TRANSFERS;
const LIMITS = ['limit', 'seconds', 'concurrency'] as const;

/** Form fields (all strings) → the API's input shape; empty numbers are left out. */
function fromForm(body: Record<string, string>): Record<string, unknown> {
  const text = (name: string) => (typeof body[name] === 'string' ? body[name] : undefined);
  const throttle = Object.fromEntries(
    KINDS.map((kind) => [
      kind,
      Object.fromEntries(
        LIMITS.flatMap((limit) => {
          const raw = text(`throttle.${kind}.${limit}`)?.trim();
          return raw ? [[limit, Number(raw)]] : [];
        }),
      ),
    ]),
  );
  return {
    name: text('name'),
    version: text('version'),
    apiUrl: text('apiUrl'),
    apiToken: text('apiToken'),
    clientId: text('clientId'),
    recipient: text('recipient')?.trim() ? text('recipient') : null,
    throttle,
  };
}

/**
 * A form shown again after an error never holds the token that was typed into it (tokens leave the
 * vault only masked): the stored token's mask, or nothing; a placeholder `-` is no secret and stays.
 */
function withoutToken(body: Record<string, string>, storedMask: string): FormValues {
  const typed = typeof body.apiToken === 'string' ? body.apiToken : '';
  return { ...body, apiToken: isPlaceholder(typed) ? PLACEHOLDER : storedMask };
}

function toValues(sub: SubscriptionView): FormValues {
  return {
    name: sub.name,
    version: sub.version,
    apiUrl: sub.apiUrl,
    apiToken: sub.apiToken,
    clientId: sub.clientId,
    recipient: sub.recipient ?? '',
    ...throttleValues(sub.throttle),
  };
}

function defaultsToValues(defaults: PageDeps['defaults']): FormValues {
  return { apiUrl: defaults.apiUrl, ...throttleValues(defaults.throttle) };
}

function throttleValues(throttle: ThrottleSettings): FormValues {
  return Object.fromEntries(KINDS.flatMap((kind) => LIMITS.map((limit) => [`throttle.${kind}.${limit}`, String(throttle[kind][limit])])));
}

function fieldErrors(error: unknown): FieldErrors {
  if (!(error instanceof AppError)) throw error;
  if (error.code === 'name_taken') return { name: error.message };
  if (error.code === 'token_required') return { apiToken: error.message };
  const errors: FieldErrors = {};
  for (const issue of error.issues ?? []) {
    const key = issue.path.join('.') || '_form';
    errors[key] ??= issue.message;
  }
  if (Object.keys(errors).length === 0) errors._form = error.message;
  return errors;
}
