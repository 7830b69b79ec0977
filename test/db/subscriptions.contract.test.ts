import { describe, expect, it } from 'vitest';
import { NameTakenError } from '../../src/db/stores.js';
import { DIALECTS, freshStores, installationRow, oauthStateRow, sleep, subscriptionRow, T0 } from './contract-stores.js';

/** The subscription, installation and OAuth-state stores' contract, on each dialect. */
describe.each(DIALECTS)('%s', (dialect) => {
  const t = freshStores(dialect);

  describe('SubscriptionStore', () => {
    it('insert then get answers every field as inserted: JSON throttle and lastSync, boolean, epoch-ms numbers', async () => {
      const { subscriptions } = t().stores;
      const row = subscriptionRow({
        name: 'Payments-Prod',
        reauthRequired: true,
        lastSync: { status: 'failed', at: '2025-03-14T09:31:02.117Z', error: { code: 'invalid_auth', message: 'The token was refused.' }, alertId: 'alr_01JPBZ5F4Y3E0XG7Q2M1N8R6TS' },
        throttle: { initial: { limit: 5, seconds: 30, concurrency: 1 }, ongoing: { limit: 120, seconds: 60, concurrency: 8 } },
        updatedAt: T0 + 86_400_123,
      });
      await subscriptions.insert(row);
      const got = await subscriptions.get(row.id);
      expect(got).toStrictEqual(row);
      expect(typeof got!.createdAt).toBe('number');
      expect(typeof got!.updatedAt).toBe('number');
      expect(got!.reauthRequired).toBe(true);

      const plain = subscriptionRow({ recipient: null, teamId: null, teamName: null, lastSync: null });
      await subscriptions.insert(plain);
      expect(await subscriptions.get(plain.id)).toStrictEqual(plain);
      expect((await subscriptions.get(plain.id))!.reauthRequired).toBe(false);
      expect(await subscriptions.get('sub_01JPBZ0000000000000000NONE')).toBeUndefined();
    });

    it('lists every subscription ordered by createdAt', async () => {
      const { subscriptions } = t().stores;
      const rows = [T0 + 3000, T0 + 1000, T0 + 2000].map((createdAt) => subscriptionRow({ createdAt, updatedAt: createdAt }));
      for (const row of rows) await subscriptions.insert(row);
      expect(await subscriptions.list()).toStrictEqual([rows[1], rows[2], rows[0]]);
    });

    it('findByIdOrName: by id, by name ignoring case; an id wins over another subscription named that id', async () => {
      const { subscriptions } = t().stores;
      const billing = subscriptionRow({ name: 'Billing-EU' });
      await subscriptions.insert(billing);
      // a subscription whose name is the other's id (lower-cased name key): only the store allows this
      const impostor = subscriptionRow({ name: billing.id });
      await subscriptions.insert(impostor);

      expect(await subscriptions.findByIdOrName(impostor.id)).toStrictEqual(impostor);
      expect(await subscriptions.findByIdOrName('billing-eu')).toStrictEqual(billing);
      expect(await subscriptions.findByIdOrName('BILLING-eu')).toStrictEqual(billing);
      expect(await subscriptions.findByIdOrName(billing.id)).toStrictEqual(billing);
      expect(await subscriptions.findByIdOrName(billing.id.toLowerCase())).toStrictEqual(impostor);
      expect(await subscriptions.findByIdOrName('billing')).toBeUndefined();
    });

    it('findForIntake answers { id, recipient, throttle }, remembered for a second', async () => {
      const { subscriptions } = t().stores;
      const other = await t().another(); // opened first: the second below starts at the first lookup
      const row = subscriptionRow({ name: 'Ops-Pager' });
      await subscriptions.insert(row);
      const intake = { id: row.id, recipient: row.recipient, throttle: row.throttle };
      expect(await subscriptions.findForIntake('ops-pager')).toStrictEqual(intake);
      expect(await subscriptions.findForIntake(row.id)).toStrictEqual(intake);
      expect(await subscriptions.findForIntake('nobody')).toBeUndefined();

      // another process changes it: this one still answers what it remembered, for a second
      await other.subscriptions.update(row.id, { recipient: 'U0BOB0001', updatedAt: T0 + 5000 });
      expect(await subscriptions.findForIntake('ops-pager')).toStrictEqual(intake);
      await sleep(1100);
      expect(await subscriptions.findForIntake('ops-pager')).toStrictEqual({ ...intake, recipient: 'U0BOB0001' });
    });

    it.each(['insert', 'update', 'delete'] as const)("findForIntake forgets at once after this store's own %s", async (write) => {
      const { subscriptions } = t().stores;
      const other = await t().another();
      const row = subscriptionRow({ name: 'Ops-Pager' });
      const bystander = subscriptionRow();
      await subscriptions.insert(row);
      if (write !== 'insert') await subscriptions.insert(bystander);
      expect((await subscriptions.findForIntake('OPS-PAGER'))!.recipient).toBe(row.recipient);
      await other.subscriptions.update(row.id, { recipient: 'U0CAROL01' });
      expect((await subscriptions.findForIntake('OPS-PAGER'))!.recipient).toBe(row.recipient); // still remembered

      if (write === 'insert') await subscriptions.insert(bystander);
      if (write === 'update') await subscriptions.update(bystander.id, { teamName: 'Acme Platform' });
      if (write === 'delete') expect(await subscriptions.delete(bystander.id)).toBe(true);
      expect(await subscriptions.findForIntake('OPS-PAGER')).toStrictEqual({ id: row.id, recipient: 'U0CAROL01', throttle: row.throttle });

      // and its own delete of the subscription itself
      await subscriptions.findForIntake(row.id);
      expect(await subscriptions.delete(row.id)).toBe(true);
      expect(await subscriptions.findForIntake(row.id)).toBeUndefined();
      expect(await subscriptions.findForIntake('ops-pager')).toBeUndefined();
    });

    it('insert of a name taken in another case throws NameTakenError and writes nothing', async () => {
      const { subscriptions } = t().stores;
      const first = subscriptionRow({ name: 'Payments-Prod' });
      await subscriptions.insert(first);
      const second = subscriptionRow({ name: 'PAYMENTS-prod' });
      await expect(subscriptions.insert(second)).rejects.toBeInstanceOf(NameTakenError);
      expect(await subscriptions.get(second.id)).toBeUndefined();
      expect(await subscriptions.list()).toStrictEqual([first]);
    });

    it('update to a taken name throws NameTakenError and changes nothing', async () => {
      const { subscriptions } = t().stores;
      const a = subscriptionRow({ name: 'Payments-Prod' });
      const b = subscriptionRow({ name: 'Search-Staging' });
      await subscriptions.insert(a);
      await subscriptions.insert(b);
      await expect(subscriptions.update(b.id, { name: 'payments-PROD', nameKey: 'payments-prod', updatedAt: T0 + 9999 })).rejects.toBeInstanceOf(NameTakenError);
      expect(await subscriptions.get(b.id)).toStrictEqual(b);
    });

    it('update changes the given fields only; {} changes nothing', async () => {
      const { subscriptions } = t().stores;
      const row = subscriptionRow({ name: 'Payments-Prod' });
      await subscriptions.insert(row);
      await subscriptions.update(row.id, {});
      expect(await subscriptions.get(row.id)).toStrictEqual(row);

      const lastSync = { status: 'ok' as const, at: '2025-03-14T10:00:00.000Z', error: null, alertId: 'alr_01JPC0AAAAAAAAAAAAAAAAAAAA' };
      await subscriptions.update(row.id, { name: 'Payments-EU', nameKey: 'payments-eu', reauthRequired: true, lastSync, recipient: null, updatedAt: T0 + 60_000 });
      expect(await subscriptions.get(row.id)).toStrictEqual({ ...row, name: 'Payments-EU', nameKey: 'payments-eu', reauthRequired: true, lastSync, recipient: null, updatedAt: T0 + 60_000 });
      // the old name is free again
      const reuse = subscriptionRow({ name: 'payments-prod' });
      await subscriptions.insert(reuse);
      expect(await subscriptions.findByIdOrName('Payments-Prod')).toStrictEqual(reuse);
    });

    it('delete removes the subscription and its installation; false for an unknown id', async () => {
      const { subscriptions, installations } = t().stores;
      const row = subscriptionRow();
      const kept = subscriptionRow();
      await subscriptions.insert(row);
      await subscriptions.insert(kept);
      await installations.save(installationRow(row.id));
      await installations.save(installationRow(kept.id));
      expect(await subscriptions.delete(row.id)).toBe(true);
      expect(await subscriptions.get(row.id)).toBeUndefined();
      expect(await subscriptions.findByIdOrName(row.name)).toBeUndefined();
      expect(await installations.get(row.id)).toBeUndefined();
      expect([...(await installations.bySubscription()).keys()]).toStrictEqual([kept.id]);
      expect(await subscriptions.delete(row.id)).toBe(false);
      expect(await subscriptions.delete('sub_01JPBZ0000000000000000NONE')).toBe(false);
      // the installation's save set the kept subscription's updatedAt
      expect(await subscriptions.list()).toStrictEqual([{ ...kept, updatedAt: T0 }]);
    });

    it.each([
      ['a NUL', 'sub_01JPBZ\u0000X'],
      ['a lone high surrogate', 'sub_\ud83d'],
      ['a lone low surrogate', '\ude00sub'],
    ])('an id with %s answers "not found", never an error', async (_what, id) => {
      const { subscriptions } = t().stores;
      await subscriptions.insert(subscriptionRow({ name: 'Payments-Prod' }));
      expect(await subscriptions.get(id)).toBeUndefined();
      expect(await subscriptions.findByIdOrName(id)).toBeUndefined();
      expect(await subscriptions.findForIntake(id)).toBeUndefined();
      expect(await subscriptions.delete(id)).toBe(false);
      expect(await subscriptions.list()).toHaveLength(1);
    });
  });

  describe('InstallationStore', () => {
    it('save inserts, then replaces (upsert), and clears the subscription\u2019s reauthRequired', async () => {
      const { subscriptions, installations } = t().stores;
      const sub = subscriptionRow({ reauthRequired: true });
      await subscriptions.insert(sub);
      expect(await installations.get(sub.id)).toBeUndefined();

      const first = installationRow(sub.id, { createdAt: T0 + 1000, updatedAt: T0 + 1000 });
      await installations.save(first);
      expect(await installations.get(sub.id)).toStrictEqual(first);
      expect(await subscriptions.get(sub.id)).toStrictEqual({ ...sub, reauthRequired: false, updatedAt: T0 + 1000 });

      await subscriptions.update(sub.id, { reauthRequired: true });
      const second = installationRow(sub.id, {
        teamId: 'T0ACME0002', teamName: 'Acme EU', botUserId: 'U0BOTEU', scopes: 'chat:write', refreshTokenSealed: null, expiresAt: null,
        createdAt: T0 + 5000, updatedAt: T0 + 5000,
      });
      await installations.save(second);
      // replaced: one installation, the first's creation time kept
      expect(await installations.get(sub.id)).toStrictEqual({ ...second, createdAt: first.createdAt });
      expect((await installations.bySubscription()).size).toBe(1);
      expect(await subscriptions.get(sub.id)).toStrictEqual({ ...sub, reauthRequired: false, updatedAt: T0 + 5000 });
    });

    it('bySubscription maps every installation by subscription id', async () => {
      const { installations } = t().stores;
      expect(await installations.bySubscription()).toStrictEqual(new Map());
      const a = installationRow('sub_01JPBZAAAAAAAAAAAAAAAAAAAA');
      const b = installationRow('sub_01JPBZBBBBBBBBBBBBBBBBBBBB', { expiresAt: null, refreshTokenSealed: null });
      await installations.save(a);
      await installations.save(b);
      expect(await installations.bySubscription()).toStrictEqual(new Map([[a.subscriptionId, a], [b.subscriptionId, b]]));
    });

    it('updateTokens replaces the token pair, its expiry and updatedAt only', async () => {
      const { installations } = t().stores;
      const row = installationRow('sub_01JPBZAAAAAAAAAAAAAAAAAAAA');
      await installations.save(row);
      const tokens = { accessTokenSealed: 'v1:bmV3LWFjY2Vzcw==', refreshTokenSealed: 'v1:bmV3LXJlZnJlc2g=', expiresAt: T0 + 24 * 3600_000, updatedAt: T0 + 43_200_000 };
      await installations.updateTokens(row.subscriptionId, tokens);
      expect(await installations.get(row.subscriptionId)).toStrictEqual({ ...row, ...tokens });
      await installations.updateTokens(row.subscriptionId, { ...tokens, refreshTokenSealed: null, expiresAt: null });
      expect(await installations.get(row.subscriptionId)).toStrictEqual({ ...row, ...tokens, refreshTokenSealed: null, expiresAt: null });
      await installations.updateTokens('sub_01JPBZ0000000000000000NONE', tokens);
      expect(await installations.get('sub_01JPBZ0000000000000000NONE')).toBeUndefined();
    });

    it('delete answers true once, then false', async () => {
      const { installations } = t().stores;
      const row = installationRow('sub_01JPBZAAAAAAAAAAAAAAAAAAAA');
      await installations.save(row);
      expect(await installations.delete(row.subscriptionId)).toBe(true);
      expect(await installations.get(row.subscriptionId)).toBeUndefined();
      expect(await installations.delete(row.subscriptionId)).toBe(false);
    });
  });

  describe('OAuthStateStore', () => {
    it('put then take answers the row once; a second take answers undefined', async () => {
      const { oauthStates } = t().stores;
      const row = oauthStateRow();
      await oauthStates.put(row, T0);
      expect(await oauthStates.take(row.stateDigest)).toStrictEqual(row);
      expect(await oauthStates.take(row.stateDigest)).toBeUndefined();
      expect(await oauthStates.take('never-put')).toBeUndefined();
    });

    it('two concurrent takes of one state (two processes): exactly one gets the row', async () => {
      const a = t().stores.oauthStates;
      const b = (await t().another()).oauthStates;
      for (let round = 0; round < 20; round++) {
        const row = oauthStateRow();
        await a.put(row, T0);
        const results = await Promise.all([a.take(row.stateDigest), b.take(row.stateDigest)]);
        expect(results.filter((r) => r !== undefined)).toStrictEqual([row]);
      }
    });

    it('put drops expired states and keeps the others', async () => {
      const { oauthStates } = t().stores;
      const expired = oauthStateRow({ expiresAt: T0 - 1 });
      const live = oauthStateRow({ expiresAt: T0 + 600_000 });
      await oauthStates.put(expired, T0 - 600_000);
      await oauthStates.put(live, T0 - 600_000);
      await oauthStates.put(oauthStateRow(), T0);
      expect(await oauthStates.take(expired.stateDigest)).toBeUndefined();
      expect(await oauthStates.take(live.stateDigest)).toStrictEqual(live);
    });
  });

  it('ping answers true', async () => {
    await expect(t().stores.ping()).resolves.toBe(true);
  });
});
