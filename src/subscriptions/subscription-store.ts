import { eq, or, asc, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { once } from '../lib/once.js';
import {
  subscriptions,
  oauthInstallations,
  type SubscriptionRow,
  type InstallationRow,
  type LastSync,
  type ThrottleSettings,
} from '../db/schema.js';

const INTAKE_CACHE_MS = 1000;
const INTAKE_CACHE_MAX = 1000;

/** What alert intake reads of a subscription. */
export type IntakeSubscription = Pick<SubscriptionRow, 'id' | 'recipient' | 'throttle'>;

/** Persistence of subscriptions and their OAuth installations. Knows nothing of HTTP. */
export class SubscriptionStore {
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
  // Intake's lookup, once per alert request: only the columns it needs, without drizzle's row mapping.
  private readonly forIntake = once(() =>
    this.db.$client.prepare<[string, string], Omit<IntakeSubscription, 'throttle'> & { throttle: string }>(
      'select id, recipient, throttle from subscriptions where id = ? or name_key = ?',
    ),
  );
  private readonly installation = once(() =>
    this.db
      .select()
      .from(oauthInstallations)
      .where(eq(oauthInstallations.subscriptionId, sql.placeholder('id')))
      .prepare(),
  );

  /** findForIntake's answers by reference (id or name as sent); only found subscriptions. */
  private readonly intakeCache = new Map<string, { subscription: IntakeSubscription; until: number }>();

  constructor(private readonly db: Db) {}

  list(): SubscriptionRow[] {
    return this.db.select().from(subscriptions).orderBy(asc(subscriptions.createdAt)).all();
  }

  get(id: string): SubscriptionRow | undefined {
    return this.byId().get({ id });
  }

  /** An alert names its subscription by id, or else by name ignoring case (SPEC §3). */
  findByIdOrName(ref: string): SubscriptionRow | undefined {
    return this.byIdOrName().get({ ref, nameKey: ref.toLowerCase() });
  }

  /**
   * findByIdOrName, with what alert intake needs of the subscription, remembered for a second:
   * at thousands of alerts a second the lookup was a measurable part of intake. This process's
   * own writes forget it at once; another web process's edit or delete is seen within a second
   * (an alert accepted in that second for a deleted subscription fails as `subscription_deleted`).
   */
  findForIntake(ref: string, now = Date.now()): IntakeSubscription | undefined {
    const cached = this.intakeCache.get(ref);
    if (cached && cached.until > now) return cached.subscription;
    const row = this.forIntake().get(ref, ref.toLowerCase());
    if (!row) return undefined;
    const subscription = { ...row, throttle: JSON.parse(row.throttle) as ThrottleSettings };
    if (this.intakeCache.size >= INTAKE_CACHE_MAX) this.intakeCache.clear();
    this.intakeCache.set(ref, { subscription, until: now + INTAKE_CACHE_MS });
    return subscription;
  }

  findByNameKey(nameKey: string): SubscriptionRow | undefined {
    return this.db.select().from(subscriptions).where(eq(subscriptions.nameKey, nameKey)).get();
  }

  insert(row: SubscriptionRow): void {
    this.db.insert(subscriptions).values(row).run();
    this.intakeCache.clear();
  }

  update(id: string, changes: Partial<SubscriptionRow>): void {
    this.db.update(subscriptions).set(changes).where(eq(subscriptions.id, id)).run();
    this.intakeCache.clear();
  }

  /** Deletes the subscription and its OAuth installation together; alert records stay. */
  delete(id: string): boolean {
    this.intakeCache.clear();
    return this.db.transaction((tx) => {
      tx.delete(oauthInstallations).where(eq(oauthInstallations.subscriptionId, id)).run();
      return tx.delete(subscriptions).where(eq(subscriptions.id, id)).run().changes > 0;
    });
  }

  getInstallation(subscriptionId: string): InstallationRow | undefined {
    return this.installation().get({ id: subscriptionId });
  }

  /** Map of subscription id → installation, for listing without one query per row. */
  installationsById(): Map<string, InstallationRow> {
    const rows = this.db.select().from(oauthInstallations).all();
    return new Map(rows.map((row) => [row.subscriptionId, row]));
  }

  /** Store an OAuth authorisation: replaces any earlier one and clears re-authorisation. */
  saveInstallation(row: InstallationRow): void {
    this.db.transaction((tx) => {
      const { subscriptionId: _id, createdAt: _created, ...changes } = row;
      tx.insert(oauthInstallations).values(row).onConflictDoUpdate({ target: oauthInstallations.subscriptionId, set: changes }).run();
      tx.update(subscriptions).set({ reauthRequired: false, updatedAt: row.updatedAt }).where(eq(subscriptions.id, row.subscriptionId)).run();
    });
  }

  /** A refreshed token pair (token rotation). */
  updateInstallationTokens(
    subscriptionId: string,
    tokens: Pick<InstallationRow, 'accessTokenSealed' | 'refreshTokenSealed' | 'expiresAt' | 'updatedAt'>,
  ): void {
    this.db.update(oauthInstallations).set(tokens).where(eq(oauthInstallations.subscriptionId, subscriptionId)).run();
  }

  deleteInstallation(subscriptionId: string): boolean {
    return (
      this.db.delete(oauthInstallations).where(eq(oauthInstallations.subscriptionId, subscriptionId)).run()
        .changes > 0
    );
  }

  markReauthRequired(id: string, now = Date.now()): void {
    this.update(id, { reauthRequired: true, updatedAt: now });
  }

  recordTeam(id: string, team: { id: string; name: string }): void {
    this.update(id, { teamId: team.id, teamName: team.name });
  }

  recordLastSync(id: string, lastSync: LastSync): void {
    this.update(id, { lastSync });
  }

  /** The manual sync's test DM has an outcome: the sync is `ok` only if the DM was delivered. */
  settleSync(
    subscriptionId: string,
    alertId: string,
    error: { code: string; message: string } | null,
    known: SubscriptionRow | undefined = this.get(subscriptionId),
  ): void {
    const lastSync = known?.lastSync;
    if (lastSync?.alertId !== alertId) return;
    this.recordLastSync(subscriptionId, { ...lastSync, status: error ? 'failed' : 'ok', error });
  }
}
