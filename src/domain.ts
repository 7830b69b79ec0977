import { z } from 'zod';

/**
 * The relay's vocabulary, defined once and imported by config, db, queues, http and workers
 * (docs/contract.md §1, §3, §4): transfers, record statuses, severities, token sources, the
 * message an alert carries, throttle settings, and the typed alert input every way in produces.
 */

export const TRANSFERS = ['initial', 'ongoing'] as const;
export type Transfer = (typeof TRANSFERS)[number];

/**
 * A record's status (§3, §6.4). `queued`, `delivering` and `retrying` are still waiting for an
 * outcome; `suppressed` is an outcome with nothing posted (a resolve with nothing to resolve, an
 * HA duplicate).
 */
export const ALERT_STATUSES = ['queued', 'delivering', 'retrying', 'delivered', 'failed', 'suppressed'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];
export const WAITING_STATUSES = ['queued', 'retrying', 'delivering'] as const satisfies readonly AlertStatus[];
export const FINAL_STATUSES = ['delivered', 'failed', 'suppressed'] as const satisfies readonly AlertStatus[];

/** What an alert says of the condition it reports (§6.4): it fires, or it resolved. */
export const ALERT_EVENTS = ['firing', 'resolved'] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];

export const SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const TOKEN_SOURCES = ['oauth', 'bot_token'] as const;
export type TokenSource = (typeof TOKEN_SOURCES)[number];

/**
 * Whether text can be stored as it is by every database the relay runs on: no NUL character and no
 * lone UTF-16 surrogate (PostgreSQL refuses both; SQLite would keep them and hand them on to Slack).
 */
export const isStorable = (text: string) => !/\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);

/** A string of untrusted text that every database can store. */
export const storableText = () => z.string().refine(isStorable, 'must be valid Unicode text, without NUL characters');

/** What an alert says, as the worker formats it for Slack (§3). */
export const alertMessageSchema = z.object({
  title: storableText().trim().min(1).max(150).optional(),
  text: storableText().min(1).max(4000).refine((text) => text.trim() !== '', 'must not be blank'),
  severity: z.enum(SEVERITIES).default('info'),
  fields: z
    .record(storableText().min(1).max(50), storableText().max(500))
    .refine((fields) => Object.keys(fields).length <= 10, 'at most 10 fields')
    .optional(),
  link: z.url({ protocol: /^https?$/ }).max(2000).optional(),
});
export type AlertMessage = z.output<typeof alertMessageSchema>;

export interface ThrottleLimits {
  /** delivery starts per window */
  limit: number;
  /** the window */
  seconds: number;
  /** deliveries in flight */
  concurrency: number;
}
export type ThrottleSettings = Record<Transfer, ThrottleLimits>;

/** The outcome of the last manual sync (§3): `pending` until its test message has an outcome. */
export interface LastSync {
  status: 'pending' | 'ok' | 'failed';
  at: string;
  error: { code: string; message: string } | null;
  alertId: string | null;
}

/**
 * One alert as every way in hands it to intake: already parsed and typed, whatever the format it
 * came in (the relay's own body, a batch item, a manual sync's test message).
 */
export interface AlertInput {
  /** a subscription id, or else a name (matched ignoring case) */
  subscription: string;
  message: AlertMessage;
  /** overrides the subscription's designated member */
  recipient?: string;
  transfer: Transfer;
  idempotencyKey?: string;
  /** one condition's alerts share a key: one message that gains a thread, edited when it resolves (§6.4) */
  dedupKey?: string;
  /** `firing` unless it says `resolved` */
  event: AlertEvent;
  /**
   * The same notification from two replicas of an HA pair (Alertmanager's fingerprint, status and
   * startsAt): the second within DEDUP_WINDOW_SECONDS is a duplicate.
   */
  notificationKey?: string;
}
