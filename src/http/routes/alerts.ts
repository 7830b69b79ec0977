import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { AlertIntake, IntakeContext } from '../../alerts/alert-intake.js';
import type { AlertQueries } from '../../alerts/alert-queries.js';
import { parseAlertBody, parseBatchBody } from '../formats/relay-alert.js';
import type { StepTimer } from '../../lib/step-timer.js';
import { jsonBody } from '../json-body.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** an intake request's steps, from its arrival (LOG_LEVEL=debug) */
      steps?: StepTimer;
    }
  }
}

/**
 * POST /api/v1/alerts and /api/v1/alerts/batch (docs/contract.md §3, §5), as handler chains for
 * the app to mount flat, ahead of every router: intake is the hot path. A repeated idempotency key
 * answers 200 with the first answer.
 */
export function alertIntakeHandlers(intake: AlertIntake): { one: RequestHandler[]; batch: RequestHandler[] } {
  const timed: RequestHandler = (_req, res, next) => {
    res.locals.steps = intake.stepTimer();
    next();
  };
  return {
    one: [
      timed,
      ...jsonBody('64kb'),
      async (req, res) => {
        res.locals.steps?.mark('body');
        const input = parseAlertBody(req.body, req.get('idempotency-key'));
        res.locals.steps?.mark('parse');
        const [result] = await intake.accept([input], context(res));
        res.status(result!.repeated ? 200 : 202).json({ id: result!.id, status: result!.status });
      },
    ],
    batch: [
      timed,
      ...jsonBody('8mb'),
      async (req, res) => {
        res.locals.steps?.mark('body');
        const inputs = parseBatchBody(req.body, req.get('idempotency-key'));
        res.locals.steps?.mark('parse');
        const results = await intake.accept(inputs, context(res));
        res.status(202).json({ alerts: results.map(({ id, status }) => ({ id, status })) });
      },
    ],
  };
}

/** GET /api/v1/alerts and /api/v1/alerts/:id. */
export function alertRoutes(queries: AlertQueries): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    res.json({ alerts: await queries.list(req.query, res.locals.caller!) });
  });
  router.get('/:id', async (req: Request, res) => {
    res.json(await queries.get(String(req.params.id), res.locals.caller!));
  });
  return router;
}

function context(res: Response): IntakeContext {
  return { caller: res.locals.caller!, steps: res.locals.steps };
}
