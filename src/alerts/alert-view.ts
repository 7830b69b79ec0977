import type { AlertEvent, AlertStatus, TokenSource, Transfer } from '../domain.js';
import type { AlertRow } from '../db/rows.js';

/** An alert record as every API and page shows it (docs/contract.md §3). */
export interface AlertView {
  id: string;
  subscriptionId: string;
  transfer: Transfer;
  status: AlertStatus;
  attempts: number;
  tokenSource: TokenSource | null;
  slack: { channel: string; ts: string } | null;
  /** one condition's key (§6.4), and what this alert said of it */
  dedupKey: string | null;
  event: AlertEvent;
  /** delivered in one message with other alerts for the same member (§6.5) */
  coalesced: boolean;
  error: { code: string; message: string } | null;
  createdAt: string;
  deliveredAt: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toAlertView(row: AlertRow): AlertView {
  return {
    id: row.id,
    subscriptionId: row.subscriptionId,
    transfer: row.transfer,
    status: row.status,
    attempts: row.attempts,
    tokenSource: row.tokenSource,
    slack: row.slackChannel && row.slackTs ? { channel: row.slackChannel, ts: row.slackTs } : null,
    dedupKey: row.dedupKey,
    event: row.event,
    coalesced: row.coalesced,
    error: row.errorCode ? { code: row.errorCode, message: row.errorMessage ?? '' } : null,
    createdAt: iso(row.createdAt)!,
    deliveredAt: iso(row.deliveredAt),
  };
}
