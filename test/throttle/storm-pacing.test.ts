import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SlackRateLimits } from '../../src/limits/slack-rate-limits.js';
import { redisKeys } from '../../src/limits/redis-keys.js';
import { removeRedisDir, startRedisServer, type TestRedis } from '../helpers/redis-server.js';

/**
 * A storm's leaders, one after another, against a real Redis: each leader's slot is at least a
 * second after the previous leader's, even when the previous one woke late and its post has not
 * been recorded yet, so that two leaders never post into one channel within Slack's second.
 */
let server: TestRedis;
let redis: Redis;
let limits: SlackRateLimits;
const WORKSPACE = SlackRateLimits.workspaceScope('sub', 'bot_token');
let channel: string;
let n = 0;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  limits = new SlackRateLimits(redis, redisKeys('storm-pacing'));
});

afterAll(async () => {
  await redis?.quit();
  await server?.stop();
  if (server) await removeRedisDir(server);
});

beforeEach(() => {
  channel = SlackRateLimits.channelScope('sub', 'bot_token', `D${++n}`);
});

const alert = (id: string) => ({ id, createdAt: Date.now() });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A storm under way: Slack answered 429 (1 s) to a post to this channel. */
async function startStorm(): Promise<void> {
  await limits.blockPaced(channel, 1000);
}

describe('storm pacing', () => {
  it('gives a new leader the slot a second after a late leader that has taken its storm but not yet recorded its post', async () => {
    await startStorm();
    const before = Date.now();
    const first = await limits.joinStorm(WORKSPACE, channel, alert('a1'), 48);
    expect(first.leader).toBe(true);
    expect(first.waitMs).toBeGreaterThan(800);
    await limits.joinStorm(WORKSPACE, channel, alert('a2'), 48);
    // the leader wakes late (its slot and the followers' grace have passed) and takes the others
    await sleep(first.waitMs + 400);
    const turn = await limits.joinStorm(WORKSPACE, channel, alert('a1'), 48);
    expect(turn).toMatchObject({ leader: true, waitMs: 0 });
    expect(await limits.takeStorm(channel, 'a1', 47)).toEqual(['a2']);
    // its post is in flight, not yet recorded: the next alert leads the next round, a second after a1's slot
    const next = await limits.joinStorm(WORKSPACE, channel, alert('a3'), 48);
    expect(next.leader).toBe(true);
    expect(Date.now() + next.waitMs).toBeGreaterThanOrEqual(before + first.waitMs + 1000 - 5);
  });

  it('holds a leader whose slot has come until a second after the previous post actually went out', async () => {
    await startStorm();
    const first = await limits.joinStorm(WORKSPACE, channel, alert('b1'), 48);
    await sleep(first.waitMs + 20);
    expect((await limits.joinStorm(WORKSPACE, channel, alert('b1'), 48)).waitMs).toBe(0);
    await limits.takeStorm(channel, 'b1', 47);
    const second = await limits.joinStorm(WORKSPACE, channel, alert('b2'), 48);
    expect(second.leader).toBe(true);
    // b1's post goes out late, 300 ms after its turn, and is recorded then
    await sleep(300);
    const postedBy = Date.now();
    await limits.recordPost(channel);
    // b2's slot comes less than a second after b1's post: b2 waits out the rest of that second
    await sleep(Math.max(0, second.waitMs - 300));
    const turn = await limits.joinStorm(WORKSPACE, channel, alert('b2'), 48);
    expect(turn.leader).toBe(true);
    expect(turn.waitMs).toBeLessThanOrEqual(1000);
    expect(Date.now() + turn.waitMs).toBeGreaterThanOrEqual(postedBy + 1000 - 5);
  });

  it("hands a leader's slot to the next alert to ask when the leader has not gone by its slot and the grace, and never while it is going", async () => {
    await startStorm();
    const first = await limits.joinStorm(WORKSPACE, channel, alert('d1'), 48);
    await limits.joinStorm(WORKSPACE, channel, alert('d2'), 48);
    // d1's job is woken late: past its slot and the grace, d2 takes its slot over and may go at once
    await sleep(first.waitMs + 400);
    const over = await limits.joinStorm(WORKSPACE, channel, alert('d2'), 48);
    expect(over).toMatchObject({ leader: true, waitMs: 0 });
    // d1 wakes at last: it is one of d2's others now
    const late = await limits.joinStorm(WORKSPACE, channel, alert('d1'), 48);
    expect(late.leader).toBe(false);
    expect(late.waitMs).toBeGreaterThan(0);
    expect(await limits.takeStorm(channel, 'd2', 47)).toEqual(['d1']);

    // a leader that has gone (its turn came, it is posting) keeps its turn however long its post takes
    const third = await limits.joinStorm(WORKSPACE, channel, alert('d3'), 48);
    expect(third.leader).toBe(true);
    await sleep(third.waitMs + 20);
    expect((await limits.joinStorm(WORKSPACE, channel, alert('d3'), 48)).waitMs).toBe(0);
    await sleep(400);
    const after = await limits.joinStorm(WORKSPACE, channel, alert('d4'), 48);
    expect(after.leader).toBe(false);
    expect(after.waitMs).toBeGreaterThan(0);
  });

  it('lets a post go alone, at once, to a channel Slack has not limited', async () => {
    const turn = await limits.joinStorm(WORKSPACE, channel, alert('c1'), 48);
    expect(turn).toEqual({ waitMs: 0, leader: true, paced: false });
  });
});
