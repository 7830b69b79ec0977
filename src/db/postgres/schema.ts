import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import type { AlertEvent, AlertMessage, AlertStatus, LastSync, ThrottleSettings, TokenSource, Transfer } from '../../domain.js';
import type { AlertRow, InstallationRow, MessageEntry, OAuthStateRow, OpenKeyRow, SlackMessageRow, SubscriptionRow } from '../rows.js';

/**
 * The PostgreSQL schema (DATABASE_URL): the same tables as SQLite's, in PostgreSQL's types
 * (jsonb, boolean, bigint epoch milliseconds read as numbers). The rows are src/db/rows.ts
 * (checked below). Migrations: drizzle/postgres (`DB_DIALECT=postgres npm run db:generate`).
 */

const epochMs = () => bigint({ mode: 'number' });

export const subscriptions = pgTable(
  'subscriptions',
  {
    id: text().primaryKey(),
    name: text().notNull(),
    nameKey: text().notNull(),
    version: text().notNull(),
    apiUrl: text().notNull(),
    apiTokenSealed: text().notNull(),
    apiTokenMask: text().notNull(),
    clientId: text().notNull(),
    recipient: text(),
    throttle: jsonb().$type<ThrottleSettings>().notNull(),
    reauthRequired: boolean().notNull().default(false),
    teamId: text(),
    teamName: text(),
    lastSync: jsonb().$type<LastSync>(),
    createdAt: epochMs().notNull(),
    updatedAt: epochMs().notNull(),
  },
  (t) => [uniqueIndex('subscriptions_name_key_unique').on(t.nameKey)],
);

export const oauthInstallations = pgTable('oauth_installations', {
  subscriptionId: text().primaryKey(),
  teamId: text(),
  teamName: text(),
  botUserId: text(),
  scopes: text(),
  accessTokenSealed: text().notNull(),
  refreshTokenSealed: text(),
  expiresAt: epochMs(),
  createdAt: epochMs().notNull(),
  updatedAt: epochMs().notNull(),
});

export const oauthStates = pgTable('oauth_states', {
  stateDigest: text().primaryKey(),
  subscriptionId: text().notNull(),
  installOptions: jsonb().$type<Record<string, unknown>>().notNull(),
  expiresAt: epochMs().notNull(),
});

export const alerts = pgTable(
  'alerts',
  {
    id: text().primaryKey(),
    subscriptionId: text().notNull(),
    transfer: text().$type<Transfer>().notNull(),
    status: text().$type<AlertStatus>().notNull(),
    attempts: integer().notNull().default(0),
    tokenSource: text().$type<TokenSource>(),
    recipient: text().notNull(),
    message: jsonb().$type<AlertMessage>().notNull(),
    slackChannel: text(),
    slackTs: text(),
    errorCode: text(),
    errorMessage: text(),
    apiKeyId: text(),
    idempotencyKey: text(),
    payloadHash: text(),
    dedupKey: text(),
    event: text().$type<AlertEvent>().notNull().default('firing'),
    replyTs: text(),
    coalesced: boolean().notNull().default(false),
    createdAt: epochMs().notNull(),
    updatedAt: epochMs().notNull(),
    deliveredAt: epochMs(),
  },
  // the same few indexes as SQLite's; the idempotency one treats a null API key (the relay's own
  // alerts) as a value, so one lookup serves both
  (t) => [
    index('alerts_subscription_created').on(t.subscriptionId, t.createdAt),
    index('alerts_status_updated').on(t.status, t.updatedAt),
    index('alerts_idempotency_key')
      .on(sql`coalesce(${t.apiKeyId}, '')`, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
    index('alerts_api_key').on(t.apiKeyId, t.id),
    index('alerts_dedup_key').on(t.subscriptionId, t.dedupKey, t.id).where(sql`${t.dedupKey} is not null`),
  ],
);

export const slackMessages = pgTable(
  'slack_messages',
  {
    id: text().primaryKey(),
    subscriptionId: text().notNull(),
    channel: text().notNull(),
    ts: text().notNull(),
    tokenSource: text().$type<TokenSource>().notNull(),
    entries: jsonb().$type<MessageEntry[]>().notNull(),
    createdAt: epochMs().notNull(),
    updatedAt: epochMs().notNull(),
  },
  (t) => [uniqueIndex('slack_messages_channel_ts').on(t.channel, t.ts)],
);

export const openKeys = pgTable(
  'open_keys',
  {
    subscriptionId: text().notNull(),
    recipient: text().notNull(),
    dedupKey: text().notNull(),
    messageId: text().notNull(),
    openedAt: epochMs().notNull(),
  },
  (t) => [primaryKey({ columns: [t.subscriptionId, t.recipient, t.dedupKey] })],
);

// The tables hold exactly the rows of src/db/rows.ts: a drift is a compile error here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type SchemaMatchesRows = [
  Assert<Same<typeof subscriptions.$inferSelect, SubscriptionRow>>,
  Assert<Same<typeof oauthInstallations.$inferSelect, InstallationRow>>,
  Assert<Same<typeof oauthStates.$inferSelect, OAuthStateRow>>,
  Assert<Same<typeof alerts.$inferSelect, AlertRow>>,
  Assert<Same<typeof slackMessages.$inferSelect, SlackMessageRow>>,
  Assert<Same<typeof openKeys.$inferSelect, OpenKeyRow>>,
];
