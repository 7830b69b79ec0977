import bullBoardApi from '@bull-board/api';
import bullMQAdapter from '@bull-board/api/bullMQAdapter';
import bullBoardExpress from '@bull-board/express';
import { Router, type RequestHandler } from 'express';
import type { AlertQueues } from '../queues/alert-queues.js';

const { createBullBoard } = bullBoardApi;
const { BullMQAdapter } = bullMQAdapter;
const { ExpressAdapter } = bullBoardExpress;

const DESCRIPTIONS = {
  initial: {
    displayName: 'Alerts — initial transfer',
    description: 'Backlogs pushed when an upstream system first connects, and manual-sync test messages; sent gently.',
  },
  ongoing: { displayName: 'Alerts — ongoing', description: 'The steady flow of alerts, delivered as Slack DMs.' },
};

/**
 * Bull Board for both delivery queues. Jobs carry ids and the message, never a token, so nothing
 * here can show a secret; failed jobs can be retried (the worker then delivers them as usual), and
 * their records go back to `queued` (docs/contract.md §3). Watching Bull Board's own retry routes does that at
 * no cost, where following BullMQ's event stream would cost the web process CPU on every alert.
 */
export function dashboardRouter(basePath: string, queues: AlertQueues, onRetried: (jobIds: string[]) => Promise<void>): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: (['ongoing', 'initial'] as const).map(
      (kind) => new BullMQAdapter(queues.byKind[kind], { ...DESCRIPTIONS[kind], allowRetries: true, readOnlyMode: false }),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Slack Alert Relay' } },
  });
  const byName = new Map(Object.values(queues.byKind).map((queue) => [queue.name, queue]));
  const afterSuccess =
    (retried: (params: Record<string, string>) => Promise<string[]>): RequestHandler =>
    (req, res, next) => {
      const params = req.params as Record<string, string>;
      res.on('finish', () => {
        if (res.statusCode >= 200 && res.statusCode < 300) retried(params).then(onRetried).catch(() => {});
      });
      next();
    };
  const router = Router();
  router.put('/api/queues/:queueName/:jobId/retry', afterSuccess(async ({ jobId }) => [jobId!]));
  router.put(
    '/api/queues/:queueName/retry/failed',
    afterSuccess(async ({ queueName }) => {
      const jobs = (await byName.get(queueName!)?.getJobs(['waiting', 'prioritized', 'delayed'], 0, 9999)) ?? [];
      return jobs.flatMap((job) => (job?.id ? [job.id] : []));
    }),
  );
  router.use(serverAdapter.getRouter() as Router);
  return router;
}
