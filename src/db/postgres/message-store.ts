import { and, eq } from 'drizzle-orm';
import type { MessageEntry, SlackMessageRow } from '../rows.js';
import type { MessageStore } from '../stores.js';
import { pgGuarded } from './pool.js';
import { openKeys, slackMessages } from './schema.js';
import type { PgDb } from './subscription-store.js';

/** Editable messages and open keys on PostgreSQL. */
export class PostgresMessageStore implements MessageStore {
  constructor(private readonly db: PgDb) {}

  async openMessage(subscriptionId: string, recipient: string, dedupKey: string): Promise<SlackMessageRow | undefined> {
    const [row] = await pgGuarded(() =>
      this.db
        .select({ message: slackMessages })
        .from(openKeys)
        .innerJoin(slackMessages, eq(slackMessages.id, openKeys.messageId))
        .where(and(eq(openKeys.subscriptionId, subscriptionId), eq(openKeys.recipient, recipient), eq(openKeys.dedupKey, dedupKey))),
    );
    return row?.message;
  }

  async get(messageId: string): Promise<SlackMessageRow | undefined> {
    const [row] = await pgGuarded(() => this.db.select().from(slackMessages).where(eq(slackMessages.id, messageId)));
    return row;
  }

  async create(message: SlackMessageRow, recipient: string, dedupKeys: string[]): Promise<void> {
    await pgGuarded(() =>
      this.db.transaction(async (tx) => {
        await tx.insert(slackMessages).values(message).onConflictDoNothing();
        for (const dedupKey of dedupKeys) {
          const row = { subscriptionId: message.subscriptionId, recipient, dedupKey, messageId: message.id, openedAt: message.createdAt };
          await tx.insert(openKeys).values(row).onConflictDoUpdate({ target: [openKeys.subscriptionId, openKeys.recipient, openKeys.dedupKey], set: row });
        }
      }),
    );
  }

  async updateEntries(messageId: string, entries: MessageEntry[], now: number): Promise<void> {
    await pgGuarded(() => this.db.update(slackMessages).set({ entries, updatedAt: now }).where(eq(slackMessages.id, messageId)));
  }

  async closeKey(subscriptionId: string, recipient: string, dedupKey: string): Promise<void> {
    await pgGuarded(() =>
      this.db.delete(openKeys).where(and(eq(openKeys.subscriptionId, subscriptionId), eq(openKeys.recipient, recipient), eq(openKeys.dedupKey, dedupKey))),
    );
  }
}
