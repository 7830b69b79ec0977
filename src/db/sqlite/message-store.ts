import { and, eq } from 'drizzle-orm';
import type { MessageEntry, SlackMessageRow } from '../rows.js';
import type { MessageStore } from '../stores.js';
import type { Db } from './client.js';
import { guarded } from './errors.js';
import { openKeys, slackMessages } from './schema.js';

/** Editable messages and open keys on SQLite. */
export class SqliteMessageStore implements MessageStore {
  constructor(private readonly db: Db) {}

  async openMessage(subscriptionId: string, recipient: string, dedupKey: string): Promise<SlackMessageRow | undefined> {
    return guarded(() => {
      const key = this.db
        .select()
        .from(openKeys)
        .where(and(eq(openKeys.subscriptionId, subscriptionId), eq(openKeys.recipient, recipient), eq(openKeys.dedupKey, dedupKey)))
        .get();
      return key ? this.db.select().from(slackMessages).where(eq(slackMessages.id, key.messageId)).get() : undefined;
    });
  }

  async get(messageId: string): Promise<SlackMessageRow | undefined> {
    return guarded(() => this.db.select().from(slackMessages).where(eq(slackMessages.id, messageId)).get());
  }

  async create(message: SlackMessageRow, recipient: string, dedupKeys: string[]): Promise<void> {
    guarded(() =>
      this.db.transaction((tx) => {
        tx.insert(slackMessages).values(message).onConflictDoNothing().run();
        for (const dedupKey of dedupKeys) {
          const row = { subscriptionId: message.subscriptionId, recipient, dedupKey, messageId: message.id, openedAt: message.createdAt };
          tx.insert(openKeys).values(row).onConflictDoUpdate({ target: [openKeys.subscriptionId, openKeys.recipient, openKeys.dedupKey], set: row }).run();
        }
      }),
    );
  }

  async updateEntries(messageId: string, entries: MessageEntry[], now: number): Promise<void> {
    guarded(() => this.db.update(slackMessages).set({ entries, updatedAt: now }).where(eq(slackMessages.id, messageId)).run());
  }

  async closeKey(subscriptionId: string, recipient: string, dedupKey: string): Promise<void> {
    guarded(() =>
      this.db
        .delete(openKeys)
        .where(and(eq(openKeys.subscriptionId, subscriptionId), eq(openKeys.recipient, recipient), eq(openKeys.dedupKey, dedupKey)))
        .run(),
    );
  }
}
