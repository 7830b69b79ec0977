import bullBoardApi from '@bull-board/api';
import bullMQAdapter from '@bull-board/api/bullMQAdapter';
import bullBoardExpress from '@bull-board/express';
import type { Router } from 'express';
import type { AlertQueues } from '../queues/alert-queues.js';

const { createBullBoard } = bullBoardApi;
const { BullMQAdapter } = bullMQAdapter;
const { ExpressAdapter } = bullBoardExpress;

export const DASHBOARD_PATH = '/admin/queues';

const DESCRIPTIONS = {
  initial: {
    displayName: 'Alerts — initial transfer',
    description: 'Backlogs pushed when an upstream system first connects, and manual-sync test messages; sent gently.',
  },
  ongoing: { displayName: 'Alerts — ongoing', description: 'The steady flow of alerts, delivered as Slack DMs.' },
};

/**
 * Bull Board for both delivery queues. Jobs carry ids and the message, never a token, so nothing
 * here can show a secret; failed jobs can be retried (the worker then delivers them as usual).
 */
export function dashboardRouter(queues: AlertQueues): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: (['ongoing', 'initial'] as const).map(
      (kind) => new BullMQAdapter(queues.byKind[kind], { ...DESCRIPTIONS[kind], allowRetries: true, readOnlyMode: false }),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Slack Alert Relay' } },
  });
  return serverAdapter.getRouter() as Router;
}
