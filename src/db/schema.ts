import { sql } from 'drizzle-orm';
import { sqliteTable, text, integer, index, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * The relay's durable state. camelCase here, snake_case in SQL (drizzle `casing`). Secrets are
 * stored sealed (src/lib/vault.ts) beside a masked hint, so listing never needs to decrypt.
 * Timestamps are epoch milliseconds.
 */

export interface ThrottleSettings {
  initial: { limit: number; seconds: number; concurrency: number };
  ongoing: { limit: number; seconds: number; concurrency: number };
}

export interface LastSync {
  status: 'ok' | 'failed';
  at: string;
  error: { code: string; message: string } | null;
  alertId: string | null;
}

export const subscriptions = sqliteTable(
  'subscriptions',
  {
    id: text().primaryKey(),
    name: text().notNull(),
    /** lower-cased name: uniqueness ignoring case */
    nameKey: text().notNull(),
    version: text().notNull(),
    apiUrl: text().notNull(),
    apiTokenSealed: text().notNull(),
    apiTokenMask: text().notNull(),
    clientId: text().notNull(),
    recipient: text(),
    throttle: text({ mode: 'json' }).$type<ThrottleSettings>().notNull(),
    /** set by invalid_auth & co. (SPEC §2), cleared by a new token or authorisation */
    reauthRequired: integer({ mode: 'boolean' }).notNull().default(false),
    teamId: text(),
    teamName: text(),
    lastSync: text({ mode: 'json' }).$type<LastSync>(),
    createdAt: integer().notNull(),
    updatedAt: integer().notNull(),
  },
  (t) => [uniqueIndex('subscriptions_name_key_unique').on(t.nameKey)],
);

/** One OAuth authorisation per subscription (the OAuth flow itself is src/slack/oauth). */
export const oauthInstallations = sqliteTable('oauth_installations', {
  subscriptionId: text().primaryKey(),
  teamId: text(),
  teamName: text(),
  botUserId: text(),
  scopes: text(),
  accessTokenSealed: text().notNull(),
  refreshTokenSealed: text(),
  /** epoch ms when the access token expires (token rotation), else null */
  expiresAt: integer(),
  createdAt: integer().notNull(),
  updatedAt: integer().notNull(),
});

/**
 * Pending OAuth flows: single-use `state` values (stored as sha-256 digests), each bound to one
 * subscription and expiring after 10 minutes (SPEC §2).
 */
export const oauthStates = sqliteTable('oauth_states', {
  stateDigest: text().primaryKey(),
  subscriptionId: text().notNull(),
  installOptions: text({ mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  expiresAt: integer().notNull(),
});

export type AlertStatus = 'queued' | 'delivering' | 'retrying' | 'delivered' | 'failed';
export type TokenSource = 'oauth' | 'bot_token';

export interface AlertMessage {
  title?: string;
  text: string;
  severity: 'info' | 'warning' | 'error' | 'critical';
  fields?: Record<string, string>;
  link?: string;
}

export const alerts = sqliteTable(
  'alerts',
  {
    id: text().primaryKey(),
    /** no foreign key: records outlive their subscription (SPEC §1, DELETE) */
    subscriptionId: text().notNull(),
    transfer: text().$type<'initial' | 'ongoing'>().notNull(),
    status: text().$type<AlertStatus>().notNull(),
    attempts: integer().notNull().default(0),
    tokenSource: text().$type<TokenSource>(),
    recipient: text().notNull(),
    message: text({ mode: 'json' }).$type<AlertMessage>().notNull(),
    slackChannel: text(),
    slackTs: text(),
    errorCode: text(),
    errorMessage: text(),
    /** keyed HMAC of the API key that sent it (null: the relay itself): scopes idempotency keys and reads */
    apiKeyId: text(),
    idempotencyKey: text(),
    /** sha-256 of the accepted payload: a reused idempotency key must come with the same one */
    payloadHash: text(),
    createdAt: integer().notNull(),
    updatedAt: integer().notNull(),
    deliveredAt: integer(),
  },
  // Few indexes, because every one is written on every intake: ids are ULIDs, so the primary key
  // already orders records by creation; the idempotency index holds only rows that have a key.
  (t) => [
    index('alerts_subscription_created').on(t.subscriptionId, t.createdAt),
    index('alerts_status_updated').on(t.status, t.updatedAt),
    index('alerts_idempotency_key').on(t.apiKeyId, t.idempotencyKey).where(sql`${t.idempotencyKey} is not null`),
    // an intake key lists only its own records, newest first
    index('alerts_api_key').on(t.apiKeyId, t.id),
  ],
);

export type SubscriptionRow = typeof subscriptions.$inferSelect;
export type InstallationRow = typeof oauthInstallations.$inferSelect;
export type AlertRow = typeof alerts.$inferSelect;
