import type { Transfer } from '../domain.js';

/** The two delivery queues (docs/contract.md §4). Shared by producer, workers and Bull Board; never renamed. */
export const QUEUE_NAMES: Record<Transfer, string> = {
  initial: 'alerts-initial',
  ongoing: 'alerts-ongoing',
};
