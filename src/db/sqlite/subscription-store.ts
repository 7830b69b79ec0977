import { asc, eq, lt, or, sql } from 'drizzle-orm';
import type { ThrottleSettings } from '../../domain.js';
import { once } from '../../lib/once.js';
import { IntakeLookupCache } from '../intake-lookup-cache.js';
import type { InstallationRow, OAuthStateRow, SubscriptionRow } from '../rows.js';
import type {
  InstallationStore,
  IntakeSubscription,
  OAuthStateStore,
  SubscriptionChanges,
  SubscriptionStore,
} from '../stores.js';
import type { Db } from './client.js';
import { guarded } from './errors.js';
import { oauthInstallations, oauthStates, subscriptions } from './schema.js';

/** Subscriptions on SQLite. */
export class SqliteSubscriptionStore implements SubscriptionStore {
  // Read on every intake and every delivery: prepared once.
  private readonly byId = once(() =>
    this.db.select().from(subscriptions).where(eq(subscriptions.id, sql.placeholder('id'))).prepare(),
  );
  private readonly byIdOrName = once(() =>
    this.db
      .select()
      .from(subscriptions)
      .where(or(eq(subscriptions.id, sql.placeholder('ref')), eq(subscriptions.nameKey, sql.placeholder('nameKey'))))
      .prepare(),
  );
  // Intake's lookup: only the columns it needs, without drizzle's row mapping.
  private readonly forIntake = once(() =>
    this.db.$client.prepare<[string, string], Omit<IntakeSubscription, 'throttle'> & { throttle: string }>(
      'select id, recipient, throttle from subscriptions where id = ? or name_key = ?',
    ),
  );
  private readonly intakeCache = new IntakeLookupCache();

  constructor(private readonly db: Db) {}

  async list(): Promise<SubscriptionRow[]> {
    return guarded(() => this.db.select().from(subscriptions).orderBy(asc(subscriptions.createdAt)).all());
  }

  async get(id: string): Promise<SubscriptionRow | undefined> {
    return guarded(() => this.byId().get({ id }));
  }

  async findByIdOrName(ref: string): Promise<SubscriptionRow | undefined> {
    // an id wins over a name (names may not look like ids, so only a deleted id's name could match)
    return guarded(() => {
      const rows = this.byIdOrName().all({ ref, nameKey: ref.toLowerCase() });
      return rows.find((row) => row.id === ref) ?? rows[0];
    });
  }

  async findForIntake(ref: string): Promise<IntakeSubscription | undefined> {
    return this.intakeCache.lookup(ref, async () =>
      guarded(() => {
        const rows = this.forIntake().all(ref, ref.toLowerCase());
        const row = rows.find((r) => r.id === ref) ?? rows[0];
        return row ? { ...row, throttle: JSON.parse(row.throttle) as ThrottleSettings } : undefined;
      }),
    );
  }

  async insert(row: SubscriptionRow): Promise<void> {
    guarded(() => this.db.insert(subscriptions).values(row).run());
    this.intakeCache.clear();
  }

  async update(id: string, changes: SubscriptionChanges): Promise<void> {
    if (Object.keys(changes).length === 0) return;
    guarded(() => this.db.update(subscriptions).set(changes).where(eq(subscriptions.id, id)).run());
    this.intakeCache.clear();
  }

  async delete(id: string): Promise<boolean> {
    this.intakeCache.clear();
    return guarded(() =>
      this.db.transaction((tx) => {
        tx.delete(oauthInstallations).where(eq(oauthInstallations.subscriptionId, id)).run();
        return tx.delete(subscriptions).where(eq(subscriptions.id, id)).run().changes > 0;
      }),
    );
  }
}

/** OAuth installations on SQLite. */
export class SqliteInstallationStore implements InstallationStore {
  private readonly bySubscriptionId = once(() =>
    this.db
      .select()
      .from(oauthInstallations)
      .where(eq(oauthInstallations.subscriptionId, sql.placeholder('id')))
      .prepare(),
  );

  constructor(private readonly db: Db) {}

  async get(subscriptionId: string): Promise<InstallationRow | undefined> {
    return guarded(() => this.bySubscriptionId().get({ id: subscriptionId }));
  }

  async bySubscription(): Promise<Map<string, InstallationRow>> {
    const rows = guarded(() => this.db.select().from(oauthInstallations).all());
    return new Map(rows.map((row) => [row.subscriptionId, row]));
  }

  async save(row: InstallationRow): Promise<void> {
    const { subscriptionId: _id, createdAt: _created, ...changes } = row;
    guarded(() =>
      this.db.transaction((tx) => {
        tx.insert(oauthInstallations).values(row).onConflictDoUpdate({ target: oauthInstallations.subscriptionId, set: changes }).run();
        tx.update(subscriptions).set({ reauthRequired: false, updatedAt: row.updatedAt }).where(eq(subscriptions.id, row.subscriptionId)).run();
      }),
    );
  }

  async updateTokens(
    subscriptionId: string,
    tokens: Pick<InstallationRow, 'accessTokenSealed' | 'refreshTokenSealed' | 'expiresAt' | 'updatedAt'>,
  ): Promise<void> {
    guarded(() => this.db.update(oauthInstallations).set(tokens).where(eq(oauthInstallations.subscriptionId, subscriptionId)).run());
  }

  async delete(subscriptionId: string): Promise<boolean> {
    return guarded(() => this.db.delete(oauthInstallations).where(eq(oauthInstallations.subscriptionId, subscriptionId)).run().changes > 0);
  }
}

/** Pending OAuth flows on SQLite. */
export class SqliteOAuthStateStore implements OAuthStateStore {
  constructor(private readonly db: Db) {}

  async put(row: OAuthStateRow, now: number): Promise<void> {
    guarded(() => {
      this.db.delete(oauthStates).where(lt(oauthStates.expiresAt, now)).run();
      this.db.insert(oauthStates).values(row).run();
    });
  }

  async take(stateDigest: string): Promise<OAuthStateRow | undefined> {
    // DELETE … RETURNING: of two callbacks with one state, exactly one gets the row.
    const [row] = guarded(() => this.db.delete(oauthStates).where(eq(oauthStates.stateDigest, stateDigest)).returning().all());
    return row;
  }
}
