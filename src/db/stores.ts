import type { AlertStatus, TokenSource } from '../domain.js';
import type { AlertRow, InstallationRow, MessageEntry, OAuthStateRow, SlackMessageRow, SubscriptionRow } from './rows.js';

/**
 * The relay's stores, as small async interfaces (like the Slack SDK's InstallationStore): one
 * implementation per dialect (src/db/sqlite, src/db/postgres), one contract suite run against
 * both (test/db). Nothing above src/db/ sees a driver, a dialect's SQL or its error codes: a
 * store throws the errors below, or `DatabaseUnavailableError` when it cannot answer.
 */

/** The database cannot answer now (locked, down, refusing connections): the API answers 503. */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
}

/** A subscription name (ignoring case) is taken. */
export class NameTakenError extends Error {
  override name = 'NameTakenError';
}

/** One request's rows at intake: written (or matched to an earlier record), or refused whole. */
export type InsertOutcome =
  | { written: { row: AlertRow; repeated: boolean }[] }
  | { conflict: number; earlier: AlertRow };

/** A record's next state, as the lifecycle (src/alerts/alert-lifecycle.ts) moves it. */
export type StatusChange =
  | { status: 'queued' }
  | { status: 'delivering'; tokenSource: TokenSource }
  | { status: 'delivered'; channel: string; ts: string; tokenSource: TokenSource; attempts: number; coalesced?: boolean }
  | { status: 'retrying'; attempts: number; error: { code: string; message: string } }
  | { status: 'failed'; error: { code: string; message: string }; attempts?: number; tokenSource?: TokenSource | null }
  | { status: 'suppressed'; error: { code: string; message: string } };

export interface AlertFilter {
  subscriptionId?: string;
  status?: AlertStatus;
  /** only the records sent with this API key */
  apiKeyId?: string;
  limit: number;
}

export interface AlertStore {
  get(id: string): Promise<AlertRow | undefined>;
  /** newest first */
  list(filter: AlertFilter): Promise<AlertRow[]>;
  /**
   * The idempotency check and the inserts of several requests in one transaction, so that two
   * requests with one key (even in two web processes) cannot both insert. Each group is one request.
   */
  insertUnlessRepeated(groups: AlertRow[][], sinceMs: number): Promise<InsertOutcome[]>;
  /** Undo an intake whose queue write failed. */
  deleteMany(ids: string[]): Promise<void>;
  /** Move a record that is in one of `from` to `change`; answers the record as it now is, or undefined if it was not in `from`. */
  transition(id: string, from: readonly AlertStatus[], change: StatusChange, now: number): Promise<AlertRow | undefined>;
  /** Records still waiting and untouched since `before`: candidates for the lost-job sweep. */
  waitingSince(before: number, page: { limit: number; offset: number }): Promise<AlertRow[]>;
  /** Counts per subscription, status and error code: /metrics' alert counters. */
  countsByOutcome(): Promise<{ subscriptionId: string; status: AlertStatus; errorCode: string | null; count: number }[]>;
  /** Delivered alerts' latency (accepted → Slack ok): cumulative counts at each bound, sum and count. */
  latencyHistogram(boundsMs: number[]): Promise<{ cumulative: number[]; sumMs: number; count: number }>;
  /** A thread reply went out (the status stays): kept, so that a retry does not post it again. */
  recordReply(id: string, replyTs: string, now: number): Promise<void>;
  /** Whether an earlier-accepted record of the same condition (subscription, member, key) is still waiting: its deliveries go in order. */
  earlierOfKeyWaiting(record: Pick<AlertRow, 'id' | 'subscriptionId' | 'recipient' | 'dedupKey'>): Promise<boolean>;
}

/** What alert intake reads of a subscription. */
export type IntakeSubscription = Pick<SubscriptionRow, 'id' | 'recipient' | 'throttle'>;

export type SubscriptionChanges = Partial<Omit<SubscriptionRow, 'id' | 'createdAt'>>;

export interface SubscriptionStore {
  list(): Promise<SubscriptionRow[]>;
  get(id: string): Promise<SubscriptionRow | undefined>;
  /** by id, or else by name ignoring case (§3) */
  findByIdOrName(ref: string): Promise<SubscriptionRow | undefined>;
  /** findByIdOrName with what intake needs, remembered for a second (this process's writes forget it) */
  findForIntake(ref: string): Promise<IntakeSubscription | undefined>;
  /** throws NameTakenError */
  insert(row: SubscriptionRow): Promise<void>;
  /** throws NameTakenError */
  update(id: string, changes: SubscriptionChanges): Promise<void>;
  /** the subscription and its OAuth installation; alert records stay */
  delete(id: string): Promise<boolean>;
}

export interface InstallationStore {
  get(subscriptionId: string): Promise<InstallationRow | undefined>;
  /** every installation, by subscription id: listing without one query per row */
  bySubscription(): Promise<Map<string, InstallationRow>>;
  /** replaces any earlier one, and clears "Re-authorization required" */
  save(row: InstallationRow): Promise<void>;
  /** a refreshed token pair (token rotation) */
  updateTokens(
    subscriptionId: string,
    tokens: Pick<InstallationRow, 'accessTokenSealed' | 'refreshTokenSealed' | 'expiresAt' | 'updatedAt'>,
  ): Promise<void>;
  delete(subscriptionId: string): Promise<boolean>;
}

export interface OAuthStateStore {
  /** stores a new state, dropping expired ones */
  put(row: OAuthStateRow, now: number): Promise<void>;
  /** takes a state out (single use): of two callers with one state, exactly one gets the row */
  take(stateDigest: string): Promise<OAuthStateRow | undefined>;
}

/** The messages the relay may edit, and the open keys that point to them (§6.4). */
export interface MessageStore {
  /** the message of an open key, with what it shows */
  openMessage(subscriptionId: string, recipient: string, dedupKey: string): Promise<SlackMessageRow | undefined>;
  get(messageId: string): Promise<SlackMessageRow | undefined>;
  /** a message just posted, and the keys it opens for `recipient` (a message already there stays as it is) */
  create(message: SlackMessageRow, recipient: string, dedupKeys: string[]): Promise<void>;
  /** what a message shows now */
  updateEntries(messageId: string, entries: MessageEntry[], now: number): Promise<void>;
  /** a key resolved: it no longer points to its message */
  closeKey(subscriptionId: string, recipient: string, dedupKey: string): Promise<void>;
}

export interface Stores {
  dialect: 'sqlite' | 'postgres';
  alerts: AlertStore;
  subscriptions: SubscriptionStore;
  installations: InstallationStore;
  oauthStates: OAuthStateStore;
  messages: MessageStore;
  /** for /readyz */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
