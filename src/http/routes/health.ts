import { Router } from 'express';

export interface HealthChecks {
  redis: () => Promise<'ok' | 'down' | 'memory_full'>;
  database: () => Promise<boolean>;
}

/** /healthz: the process answers. /readyz: Redis and the database answer too (no auth). */
export function healthRoutes(checks: HealthChecks): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [redis, database] = await Promise.all([checks.redis().catch(() => 'down' as const), checks.database().catch(() => false)]);
    const ready = redis === 'ok' && database;
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'unavailable',
      checks: { redis, database: database ? 'ok' : 'down' },
    });
  });
  return router;
}
