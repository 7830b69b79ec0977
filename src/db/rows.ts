import type { AlertEvent, AlertMessage, AlertStatus, LastSync, Severity, ThrottleSettings, TokenSource, Transfer } from '../domain.js';

/**
 * The relay's durable rows, whatever the database: each dialect's schema (src/db/sqlite,
 * src/db/postgres) maps its tables to exactly these shapes. Timestamps are epoch milliseconds.
 * Secrets are stored sealed (src/lib/vault.ts) beside a masked hint, so listing never decrypts.
 */

export interface SubscriptionRow {
  id: string;
  name: string;
  /** lower-cased name: uniqueness ignoring case */
  nameKey: string;
  version: string;
  apiUrl: string;
  apiTokenSealed: string;
  apiTokenMask: string;
  clientId: string;
  recipient: string | null;
  throttle: ThrottleSettings;
  /** set by invalid_auth & co. (docs/contract.md §2), cleared by a new token or authorisation */
  reauthRequired: boolean;
  teamId: string | null;
  teamName: string | null;
  lastSync: LastSync | null;
  createdAt: number;
  updatedAt: number;
}

/** One OAuth authorisation per subscription (the flow itself is src/slack/oauth). */
export interface InstallationRow {
  subscriptionId: string;
  teamId: string | null;
  teamName: string | null;
  botUserId: string | null;
  scopes: string | null;
  accessTokenSealed: string;
  refreshTokenSealed: string | null;
  /** when the access token expires (token rotation), else null */
  expiresAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** A pending OAuth flow: a single-use `state` (kept as a digest) bound to one subscription, for 10 minutes. */
export interface OAuthStateRow {
  stateDigest: string;
  subscriptionId: string;
  installOptions: Record<string, unknown>;
  expiresAt: number;
}

export interface AlertRow {
  id: string;
  /** no foreign key: records outlive their subscription (§1, DELETE) */
  subscriptionId: string;
  transfer: Transfer;
  status: AlertStatus;
  attempts: number;
  tokenSource: TokenSource | null;
  recipient: string;
  message: AlertMessage;
  slackChannel: string | null;
  slackTs: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  /** keyed HMAC of the API key that sent it (null: the relay itself): scopes idempotency keys and reads */
  apiKeyId: string | null;
  idempotencyKey: string | null;
  /** sha-256 of the accepted payload: a reused idempotency key must come with the same one */
  payloadHash: string | null;
  /** one condition's key (§6.4); null for a stand-alone alert */
  dedupKey: string | null;
  event: AlertEvent;
  /** the thread reply this alert posted (a repeat, a resolve), once posted: a retry does not post it again */
  replyTs: string | null;
  /** delivered in one message with other alerts waiting for the same member (§6.5) */
  coalesced: boolean;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
}

/** One alert as a message shows it, kept so the message can be drawn again when it changes. */
export interface MessageEntry {
  alertId: string;
  dedupKey: string | null;
  title: string | null;
  text: string;
  severity: Severity;
  fields: Record<string, string> | null;
  link: string | null;
  /** how many times it fired: 1, and one more for every repeat */
  fired: number;
  lastFiredAt: number;
  /** the alert that fired last: a retried repeat counts once */
  lastAlertId: string;
  resolvedAt: number | null;
}

/** A Slack message the relay may edit later: it shows at least one alert with a dedupKey. */
export interface SlackMessageRow {
  id: string;
  subscriptionId: string;
  channel: string;
  ts: string;
  tokenSource: TokenSource;
  entries: MessageEntry[];
  createdAt: number;
  updatedAt: number;
}

/** A condition that fired and has not resolved: its key, for one subscription and member, names its message. */
export interface OpenKeyRow {
  subscriptionId: string;
  recipient: string;
  dedupKey: string;
  messageId: string;
  openedAt: number;
}
