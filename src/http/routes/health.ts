import { Router } from 'express';

export interface HealthChecks {
  redis: () => Promise<'ok' | 'down' | 'memory_full'>;
  database: () => boolean;
}

/** /healthz: the process answers. /readyz: Redis and the database answer too (no auth). */
export function healthRoutes(checks: HealthChecks): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [redis, database] = await Promise.all([checks.redis().catch(() => 'down' as const), safe(checks.database)]);
    const ready = redis === 'ok' && database;
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'unavailable',
      checks: { redis, database: database ? 'ok' : 'down' },
    });
  });
  return router;
}

function safe(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}
