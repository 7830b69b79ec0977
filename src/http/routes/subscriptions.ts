import { Router, type Request } from 'express';
import { AppError } from '../../errors.js';
import type { SubscriptionService } from '../../subscriptions/subscription-service.js';
import type { ManualSync } from '../../subscriptions/manual-sync.js';
import { jsonBody } from '../json-body.js';

/** /api/v1/subscriptions (docs/contract.md §5): parse, delegate, answer. */
export function subscriptionRoutes(subscriptions: SubscriptionService, sync: ManualSync): Router {
  const router = Router();
  const json = jsonBody('64kb');

  router.post('/', ...json, async (req, res) => {
    res.status(201).json(await subscriptions.create(req.body));
  });
  router.get('/', async (_req, res) => {
    res.json({ subscriptions: await subscriptions.list() });
  });
  router.get('/:id', async (req, res) => {
    res.json(await subscriptions.get(idOf(req)));
  });
  router.patch('/:id', ...json, async (req, res) => {
    res.json(await subscriptions.update(idOf(req), req.body));
  });
  router.delete('/:id', async (req, res) => {
    await subscriptions.delete(idOf(req));
    res.status(204).end();
  });
  router.delete('/:id/authorization', async (req, res) => {
    await subscriptions.forgetAuthorization(idOf(req));
    res.status(204).end();
  });
  router.post('/:id/sync', async (req, res) => {
    const { alertId, lastSync } = await sync.run(idOf(req));
    res.status(202).json({ alertId, lastSync });
  });
  router.post('/:id/initialize', async (req) => {
    await subscriptions.require(idOf(req));
    throw new AppError(
      'initialization_not_supported',
      501,
      'Bulk initialization of historical data is not supported; send alerts as they happen.',
    );
  });
  return router;
}

const idOf = (req: Request) => String(req.params.id);
