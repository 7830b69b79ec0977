import { Router, type Request } from 'express';
import type { AlertIntake, IntakeContext } from '../../alerts/alert-intake.js';
import type { AlertQueries } from '../../alerts/alert-queries.js';
import { jsonBody } from '../json-body.js';

/** /api/v1/alerts (SPEC §3, §5). A repeated idempotency key answers 200 with the first answer. */
export function alertRoutes(intake: AlertIntake, queries: AlertQueries): Router {
  const router = Router();

  router.post('/', ...jsonBody('64kb'), async (req, res) => {
    const result = await intake.acceptOne(req.body, context(req, res.locals.apiKeyId));
    res.status(result.repeated ? 200 : 202).json({ id: result.id, status: result.status });
  });
  router.post('/batch', ...jsonBody('8mb'), async (req, res) => {
    const results = await intake.acceptBatch(req.body, context(req, res.locals.apiKeyId));
    res.status(202).json({ alerts: results.map(({ id, status }) => ({ id, status })) });
  });
  router.get('/', (req, res) => {
    res.json({ alerts: queries.list(req.query) });
  });
  router.get('/:id', (req, res) => {
    res.json(queries.get(String(req.params.id)));
  });
  return router;
}

function context(req: Request, apiKeyId: string | undefined): IntakeContext {
  return { apiKeyId: apiKeyId ?? null, idempotencyKey: req.get('idempotency-key') };
}
