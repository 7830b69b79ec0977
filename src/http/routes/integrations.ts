import type { Request, RequestHandler } from 'express';
import { z } from 'zod';
import type { AlertIntake } from '../../alerts/alert-intake.js';
import type { AlertInput } from '../../domain.js';
import { AppError } from '../../errors.js';
import { parseInput } from '../../lib/validation.js';
import { parseAlertmanagerBody } from '../formats/alertmanager.js';
import type { NotificationTarget } from '../formats/monitoring-alert.js';
import { parseGrafanaBody } from '../formats/grafana.js';
import { jsonBody } from '../json-body.js';

/**
 * POST /api/v1/integrations/alertmanager and /grafana (docs/contract.md §6.4): a monitoring
 * system's webhook, pointed at the relay with no glue code. `?subscription=` names the
 * subscription (and `&recipient=` may name the member); the intake key is the bearer. Answers 200
 * `{ alerts: [{ id, status }] }`, one per alert in order.
 *
 * Both senders retry a 5xx and drop anything else, so a refusal that a retry would fix (the
 * intake key's quota) is answered 503 with Retry-After rather than 429.
 */
const targetQuery = z.object({
  subscription: z.string().trim().min(1, 'name the subscription: ?subscription=<id or name>').max(200),
  recipient: z.string().trim().min(1).max(254).optional(),
});

export function integrationHandlers(intake: AlertIntake): { alertmanager: RequestHandler[]; grafana: RequestHandler[] } {
  const handler =
    (parse: (body: unknown, target: NotificationTarget) => AlertInput[]): RequestHandler =>
    async (req, res) => {
      const inputs = parse(req.body, targetOf(req));
      const results = await intake.accept(inputs, { caller: res.locals.caller! }).catch((error: unknown) => {
        throw retryable(error);
      });
      res.status(200).json({ alerts: results.map(({ id, status }) => ({ id, status })) });
    };
  return {
    alertmanager: [...jsonBody('8mb'), handler(parseAlertmanagerBody)],
    grafana: [...jsonBody('8mb'), handler(parseGrafanaBody)],
  };
}

function targetOf(req: Request): NotificationTarget {
  const query = parseInput(targetQuery, {
    subscription: single(req.query.subscription),
    recipient: single(req.query.recipient),
  });
  return { subscription: query.subscription, ...(query.recipient ? { recipient: query.recipient } : {}) };
}

/** A query parameter sent once; repeated or nested, it is no value (and the schema says so). */
const single = (value: unknown) => (typeof value === 'string' ? value : value === undefined ? undefined : 0);

function retryable(error: unknown): unknown {
  if (!(error instanceof AppError) || error.code !== 'rate_limited') return error;
  return new AppError('rate_limited', 503, error.message, undefined, error.retryAfterSeconds);
}
