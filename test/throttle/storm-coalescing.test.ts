import { afterEach, describe, expect, it } from 'vitest';
import { alertsCarried } from '../helpers/post-timing.js';
import { startTestRelay, type TestRelay } from '../helpers/test-relay.js';

/**
 * Storms (docs/contract.md §6.5): with the stand-in holding one member's DM to one post a second
 * (429 with Retry-After beyond it), 500 alerts for that member go out together, a message's worth
 * a post: every alert delivered exactly once, in few posts, each record `coalesced` with its
 * message's ts; and a condition carried in such a message still resolves, by editing its line.
 * How fast is the benchmark's (`npm run bench -- --only storm`), not this test's.
 */
let relay: TestRelay;
afterEach(() => relay.close());

const LIFTED = { THROTTLE_ONGOING_LIMIT: '100000', THROTTLE_ONGOING_CONCURRENCY: '100' };

describe('a storm to one member', () => {
  it('delivers 500 alerts once each, in at most 25 posts, and a coalesced condition resolves by editing its line', async () => {
    relay = await startTestRelay({ worker: false, env: LIFTED, sandbox: { channelPostLimit: { perSecond: 1 } } });
    await Promise.all([relay.spawnWorkerProcess(), relay.spawnWorkerProcess()]);
    const sub = await relay.createSubscription({ recipient: 'U0ALICE', throttle: { ongoing: { limit: 100000, seconds: 60, concurrency: 100 } } });

    const ids: string[] = [];
    for (let batch = 0; batch < 5; batch++) {
      const alerts = Array.from({ length: 100 }, (_, i) => {
        const n = batch * 100 + i;
        // a few of them are conditions, to be resolved later
        return { subscription: sub.id, text: `storm alert ${n}`, ...(n % 50 === 7 ? { dedupKey: `disk-${n}` } : {}) };
      });
      const res = await relay.api('POST', '/api/v1/alerts/batch', { alerts });
      expect(res.status).toBe(202);
      ids.push(...res.body.alerts.map((a: { id: string }) => a.id));
    }
    const records = await Promise.all(ids.map((id) => relay.waitForAlert(id, ['delivered', 'failed'], 90_000)));
    expect(records.filter((r) => r.status !== 'delivered')).toEqual([]);

    const posts = relay.sandbox.messages({ user: 'U0ALICE', topLevel: true });
    expect(posts.length).toBeLessThanOrEqual(25);
    // none lost, none doubled: every alert in exactly one post, the one its record names
    const carried = alertsCarried(posts);
    expect(carried.map((a) => a.alertId).sort()).toEqual([...ids].sort());
    for (const record of records) {
      const message = posts.find((m) => m.ts === record.slack.ts)!;
      expect(alertsCarried([message]).map((a) => a.alertId)).toContain(record.id);
      expect(record.coalesced).toBe(alertsCarried([message]).length > 1);
    }
    expect(records.filter((r) => r.coalesced).length).toBeGreaterThan(450);
    // each line shows its own alert
    const text = JSON.stringify(posts.map((m) => m.blocks));
    for (let n = 0; n < 500; n += 37) expect(text).toContain(`storm alert ${n}"`);

    // one coalesced condition resolves: its line is edited, the thread says so, the others stay firing
    const condition = records.find((r) => r.dedupKey === 'disk-207' && r.coalesced)!;
    expect(condition).toBeDefined();
    const resolve = await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'disk ok', dedupKey: 'disk-207', status: 'resolved' });
    expect(resolve.status).toBe(202);
    expect((await relay.waitForAlert(resolve.body.id, ['delivered', 'failed', 'suppressed'], 20_000)).status).toBe('delivered');
    const edited = relay.sandbox.messages({ user: 'U0ALICE' }).find((m) => m.ts === condition.slack.ts)!;
    expect(edited.edited).not.toBeNull();
    const lines = (edited.blocks as { text?: { text?: string } }[]).map((b) => b.text?.text ?? '');
    const resolvedLines = lines.filter((line) => line.includes(':white_check_mark: resolved'));
    expect(resolvedLines).toHaveLength(1);
    expect(resolvedLines[0]).toContain('storm alert 207');
    expect(alertsCarried([edited]).length).toBe(lines.filter((line) => line.includes('storm alert')).length);
    const replies = relay.sandbox.messages({ user: 'U0ALICE', threadTs: condition.slack.ts });
    expect(replies).toHaveLength(1);
    expect(JSON.stringify(replies[0]!.blocks)).toContain('Resolved');
  }, 150_000);
});
