import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RelayProcesses } from '../helpers/relay-processes.js';
import { closeAll, startFastRelay } from './helpers/relay.js';
import { json, slackLike, startSlackStandIn, type SlackStandIn, type StandInCall } from './helpers/servers.js';

/**
 * A Slack that pages users.list for ever (docs/contract.md §6.2): the lookup of a member by name
 * stops after 50 pages, on a repeated cursor, or after 30 s, and fails `member_lookup_failed`, so
 * the worker slot is freed: with WORKER_CONCURRENCY=1, the alert queued behind it is delivered.
 * Real web and worker processes; the stand-in answers everything else like Slack.
 */
const redisUrl = inject('redisUrl');
let relay: RelayProcesses;
let standIn: SlackStandIn;

const member = (i: number) => ({
  id: `U0PAGE${i}`,
  name: `someone${i}`,
  real_name: `Someone ${i}`,
  deleted: false,
  profile: { display_name: `someone${i}`, real_name: `Someone ${i}` },
});
/** users.list: one member a page, and a fresh cursor every time (a small pause per page, like a real server) */
const endless = async (call: StandInCall) => {
  if (call.method !== 'users.list') return slackLike(call);
  await new Promise((r) => setTimeout(r, 10));
  return json({ ok: true, members: [member(Math.floor(Math.random() * 1e6))], response_metadata: { next_cursor: `dXNlcjo${randomBytes(8).toString('hex')}` } });
};
/** users.list: the same cursor every time */
const repeating = (call: StandInCall) =>
  call.method !== 'users.list' ? slackLike(call) : json({ ok: true, members: [member(1)], response_metadata: { next_cursor: 'dXNlcjpVMFNBTUU=' } });

/** users.list: a fresh cursor every time, each page just inside SLACK_TIMEOUT_MS: only the 30 s cap can stop it */
const slow = async (call: StandInCall) => {
  if (call.method !== 'users.list') return slackLike(call);
  await new Promise((r) => setTimeout(r, 1500));
  return json({ ok: true, members: [member(2)], response_metadata: { next_cursor: `dXNlcjo${randomBytes(8).toString('hex')}` } });
};

/** the slow case runs on the `initial` queue (its own slot) while the other tests use `ongoing` */
let slowCase: { startedAt: number; first: string; behind: string };

beforeAll(async () => {
  relay = await startFastRelay({ redisUrl, env: { WORKER_CONCURRENCY: '1', SLACK_TIMEOUT_MS: '2000' } });
  standIn = await startSlackStandIn(relay.spareApiPort, { endless, repeating, slow });
  await relay.startWeb();
  await relay.startWorker();
  const slowSub = await relay.createSubscription({ apiUrl: standIn.apiUrl('slow'), recipient: 'Nobody Here' });
  const healthy = await relay.createSubscription({ recipient: 'U0BOB' });
  const startedAt = Date.now();
  const first = await relay.sendAlert({ subscription: slowSub.id, text: 'slow pages', transfer: 'initial' });
  const behind = await relay.sendAlert({ subscription: healthy.id, text: `initial behind ${startedAt}`, transfer: 'initial' });
  slowCase = { startedAt, first, behind };
});
afterAll(() => closeAll(() => relay?.close(), () => standIn?.close()));

describe('users.list that never ends', () => {
  it('fails member_lookup_failed within 30 s after at most 50 pages, and frees the slot for the alert queued behind it', async () => {
    const stuck = await relay.createSubscription({ apiUrl: standIn.apiUrl('endless'), recipient: 'Nobody Here' });
    const healthy = await relay.createSubscription({ recipient: 'U0ALICE' });
    const startedAt = Date.now();
    const first = await relay.sendAlert({ subscription: stuck.id, text: 'for a member found by name' });
    const behind = await relay.sendAlert({ subscription: healthy.id, text: `queued behind ${startedAt}` });

    const failed = await relay.waitForAlert(first, ['delivered', 'failed'], 35_000);
    const tookMs = Date.now() - startedAt;
    const pages = standIn.callsTo('endless', 'users.list').length;
    expect({ status: failed.status, code: failed.error?.code }, JSON.stringify(failed)).toEqual({ status: 'failed', code: 'member_lookup_failed' });
    expect(tookMs).toBeLessThan(30_000);
    expect(pages).toBeGreaterThan(1);
    expect(pages).toBeLessThanOrEqual(50);
    // nothing was posted for it
    expect(standIn.callsTo('endless', 'chat.postMessage')).toHaveLength(0);

    // one slot per queue in this worker: the second alert could only run once the first let go
    const delivered = await relay.waitForAlert(behind, ['delivered', 'failed'], 10_000);
    expect(delivered.status).toBe('delivered');
    const dm = relay.sandbox.messages({ user: 'U0ALICE' }).find((m) => m.text.includes(`queued behind ${startedAt}`));
    expect(dm).toBeTruthy();
    // …and it was posted only after the last page of the stuck lookup: it waited for that slot
    expect(dm!.at).toBeGreaterThanOrEqual(standIn.callsTo('endless', 'users.list').at(-1)!.at);
    console.log(`endless users.list: failed after ${tookMs} ms and ${pages} pages; the alert behind it delivered`);
  });

  it('fails member_lookup_failed on a repeated cursor, after two pages', async () => {
    const sub = await relay.createSubscription({ apiUrl: standIn.apiUrl('repeating'), recipient: 'Nobody Here' });
    const startedAt = Date.now();
    const id = await relay.sendAlert({ subscription: sub.id, text: 'repeated cursor' });
    const behind = await relay.sendAlert({ subscription: sub.id, text: 'second one', recipient: 'U0ALICE' });
    const failed = await relay.waitForAlert(id, ['delivered', 'failed'], 35_000);
    expect({ status: failed.status, code: failed.error?.code }).toEqual({ status: 'failed', code: 'member_lookup_failed' });
    expect(Date.now() - startedAt).toBeLessThan(30_000);
    expect(standIn.callsTo('repeating', 'users.list').length).toBeLessThanOrEqual(3);
    expect((await relay.waitForAlert(behind, ['delivered', 'failed'], 10_000)).status).toBe('delivered');
  });

  it('fails member_lookup_failed after 30 s when every page is slow (fewer than 50 pages), and frees that slot too', async () => {
    const failed = await relay.waitForAlert(slowCase.first, ['delivered', 'failed'], 40_000);
    const tookMs = Date.now() - slowCase.startedAt;
    const pages = standIn.callsTo('slow', 'users.list').length;
    expect({ status: failed.status, code: failed.error?.code }, JSON.stringify(failed)).toEqual({ status: 'failed', code: 'member_lookup_failed' });
    expect(pages).toBeLessThan(50);
    expect(tookMs).toBeGreaterThanOrEqual(29_000);
    expect(tookMs).toBeLessThan(34_000);
    const delivered = await relay.waitForAlert(slowCase.behind, ['delivered', 'failed'], 10_000);
    expect(delivered.status).toBe('delivered');
    // it waited behind the slow lookup for the initial queue's only slot
    expect(Date.parse(delivered.deliveredAt)).toBeGreaterThanOrEqual(slowCase.startedAt + 29_000);
    console.log(`slow users.list: failed after ${tookMs} ms and ${pages} pages; the initial alert behind it delivered`);
  }, 50_000);
});
