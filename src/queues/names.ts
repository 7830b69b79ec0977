import type { TransferKind } from '../config.js';

/** The two delivery queues (SPEC §4). Shared by producer, workers and Bull Board; never renamed. */
export const QUEUE_NAMES: Record<TransferKind, string> = {
  initial: 'alerts-initial',
  ongoing: 'alerts-ongoing',
};

export const TRANSFER_KINDS: readonly TransferKind[] = ['initial', 'ongoing'];
