import { asc, eq, lt, or } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { isStorable } from '../../domain.js';
import { IntakeLookupCache } from '../intake-lookup-cache.js';
import type { InstallationRow, OAuthStateRow, SubscriptionRow } from '../rows.js';
import type { InstallationStore, IntakeSubscription, OAuthStateStore, SubscriptionChanges, SubscriptionStore } from '../stores.js';
import { pgGuarded } from './pool.js';
import * as schema from './schema.js';

const { oauthInstallations, oauthStates, subscriptions } = schema;
export type PgDb = NodePgDatabase<typeof schema>;

/** Subscriptions on PostgreSQL. */
export class PostgresSubscriptionStore implements SubscriptionStore {
  private readonly intakeCache = new IntakeLookupCache();

  constructor(private readonly db: PgDb) {}

  async list(): Promise<SubscriptionRow[]> {
    return pgGuarded(() => this.db.select().from(subscriptions).orderBy(asc(subscriptions.createdAt)));
  }

  async get(id: string): Promise<SubscriptionRow | undefined> {
    if (!isStorable(id)) return undefined; // no stored id holds a NUL or a lone surrogate
    const [row] = await pgGuarded(() => this.db.select().from(subscriptions).where(eq(subscriptions.id, id)));
    return row;
  }

  async findByIdOrName(ref: string): Promise<SubscriptionRow | undefined> {
    if (!isStorable(ref)) return undefined;
    const rows = await pgGuarded(() =>
      this.db.select().from(subscriptions).where(or(eq(subscriptions.id, ref), eq(subscriptions.nameKey, ref.toLowerCase()))),
    );
    return rows.find((row) => row.id === ref) ?? rows[0];
  }

  async findForIntake(ref: string): Promise<IntakeSubscription | undefined> {
    if (!isStorable(ref)) return undefined;
    return this.intakeCache.lookup(ref, async () => {
      const rows = await pgGuarded(() =>
        this.db
          .select({ id: subscriptions.id, recipient: subscriptions.recipient, throttle: subscriptions.throttle })
          .from(subscriptions)
          .where(or(eq(subscriptions.id, ref), eq(subscriptions.nameKey, ref.toLowerCase()))),
      );
      return rows.find((row) => row.id === ref) ?? rows[0];
    });
  }

  async insert(row: SubscriptionRow): Promise<void> {
    await pgGuarded(() => this.db.insert(subscriptions).values(row));
    this.intakeCache.clear();
  }

  async update(id: string, changes: SubscriptionChanges): Promise<void> {
    if (Object.keys(changes).length === 0 || !isStorable(id)) return;
    await pgGuarded(() => this.db.update(subscriptions).set(changes).where(eq(subscriptions.id, id)));
    this.intakeCache.clear();
  }

  async delete(id: string): Promise<boolean> {
    if (!isStorable(id)) return false;
    this.intakeCache.clear();
    return pgGuarded(() =>
      this.db.transaction(async (tx) => {
        await tx.delete(oauthInstallations).where(eq(oauthInstallations.subscriptionId, id));
        const deleted = await tx.delete(subscriptions).where(eq(subscriptions.id, id)).returning({ id: subscriptions.id });
        return deleted.length > 0;
      }),
    );
  }
}

/** OAuth installations on PostgreSQL. */
export class PostgresInstallationStore implements InstallationStore {
  constructor(private readonly db: PgDb) {}

  async get(subscriptionId: string): Promise<InstallationRow | undefined> {
    if (!isStorable(subscriptionId)) return undefined;
    const [row] = await pgGuarded(() => this.db.select().from(oauthInstallations).where(eq(oauthInstallations.subscriptionId, subscriptionId)));
    return row;
  }

  async bySubscription(): Promise<Map<string, InstallationRow>> {
    const rows = await pgGuarded(() => this.db.select().from(oauthInstallations));
    return new Map(rows.map((row) => [row.subscriptionId, row]));
  }

  async save(row: InstallationRow): Promise<void> {
    const { subscriptionId: _id, createdAt: _created, ...changes } = row;
    await pgGuarded(() =>
      this.db.transaction(async (tx) => {
        await tx.insert(oauthInstallations).values(row).onConflictDoUpdate({ target: oauthInstallations.subscriptionId, set: changes });
        await tx.update(subscriptions).set({ reauthRequired: false, updatedAt: row.updatedAt }).where(eq(subscriptions.id, row.subscriptionId));
      }),
    );
  }

  async updateTokens(
    subscriptionId: string,
    tokens: Pick<InstallationRow, 'accessTokenSealed' | 'refreshTokenSealed' | 'expiresAt' | 'updatedAt'>,
  ): Promise<void> {
    if (!isStorable(subscriptionId)) return;
    const { accessTokenSealed, refreshTokenSealed, expiresAt, updatedAt } = tokens;
    await pgGuarded(() =>
      this.db
        .update(oauthInstallations)
        .set({ accessTokenSealed, refreshTokenSealed, expiresAt, updatedAt })
        .where(eq(oauthInstallations.subscriptionId, subscriptionId)),
    );
  }

  async delete(subscriptionId: string): Promise<boolean> {
    if (!isStorable(subscriptionId)) return false;
    const deleted = await pgGuarded(() =>
      this.db.delete(oauthInstallations).where(eq(oauthInstallations.subscriptionId, subscriptionId)).returning({ id: oauthInstallations.subscriptionId }),
    );
    return deleted.length > 0;
  }
}

/** Pending OAuth flows on PostgreSQL. */
export class PostgresOAuthStateStore implements OAuthStateStore {
  constructor(private readonly db: PgDb) {}

  async put(row: OAuthStateRow, now: number): Promise<void> {
    await pgGuarded(async () => {
      await this.db.delete(oauthStates).where(lt(oauthStates.expiresAt, now));
      await this.db.insert(oauthStates).values(row);
    });
  }

  async take(stateDigest: string): Promise<OAuthStateRow | undefined> {
    if (!isStorable(stateDigest)) return undefined;
    // DELETE … RETURNING: of two callbacks with one state, exactly one gets the row.
    const [row] = await pgGuarded(() => this.db.delete(oauthStates).where(eq(oauthStates.stateDigest, stateDigest)).returning());
    return row;
  }
}
