import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOT_TOKEN, startTestRelay, type TestRelay } from '../helpers/test-relay.js';
import { databaseDump } from '../helpers/test-db.js';

/**
 * Tokens never leave the vault: after subscriptions were saved, updated and used for deliveries
 * (and failures), no token appears in clear in any API answer, Redis key, log line or database.
 */
let relay: TestRelay;
const SECOND_TOKEN = 'xoxb-7777777777-secondsecondsecond';
const REVOKED_TOKEN = 'xoxb-8888888888-revokedrevokedrev';
const answers: string[] = [];

beforeAll(async () => {
  relay = await startTestRelay();
  const record = async (res: { text: string }) => answers.push(res.text);

  const sub = await relay.createSubscription({ recipient: 'alice@example.com' });
  await record(await relay.api('GET', `/api/v1/subscriptions/${sub.id}`));
  await record(await relay.api('PATCH', `/api/v1/subscriptions/${sub.id}`, { apiToken: SECOND_TOKEN }));
  await record(await relay.api('GET', '/api/v1/subscriptions'));
  const ok = await relay.api('POST', '/api/v1/alerts', { subscription: sub.id, text: 'hello' });
  await relay.waitForAlert(ok.body.id);

  const bad = await relay.createSubscription({ apiToken: REVOKED_TOKEN });
  relay.sandbox.revokeToken(REVOKED_TOKEN);
  const failed = await relay.api('POST', '/api/v1/alerts', { subscription: bad.id, text: 'nope' });
  await record(await relay.api('GET', `/api/v1/alerts/${(await relay.waitForAlert(failed.body.id)).id}`));
  await record(await relay.api('GET', '/api/v1/alerts?limit=1000'));
  // a rejected token in a request body must not echo back either
  await record(await relay.api('POST', '/api/v1/subscriptions', { name: 'x', apiToken: 'xoxb-echo-9999999999-echo', clientId: '' }));
});
afterAll(() => relay.close());

const tokens = [BOT_TOKEN, SECOND_TOKEN, REVOKED_TOKEN, 'xoxb-echo-9999999999-echo'];
const expectClean = (where: string, text: string) => {
  for (const token of tokens) expect(text.includes(token), `${token} found in ${where}`).toBe(false);
};

describe('no token in clear', () => {
  it('in API responses', () => {
    expect(answers.length).toBeGreaterThan(4);
    for (const text of answers) expectClean('an API response', text);
  });

  it('in any Redis key of the relay', async () => {
    const redis = new Redis(relay.config.redisUrl);
    try {
      const keys = await redis.keys(`${relay.config.queuePrefix}:*`);
      expect(keys.length).toBeGreaterThan(3);
      for (const key of keys) {
        const type = await redis.type(key);
        const dump =
          type === 'string' ? await redis.get(key)
          : type === 'hash' ? JSON.stringify(await redis.hgetall(key))
          : type === 'list' ? JSON.stringify(await redis.lrange(key, 0, -1))
          : type === 'set' ? JSON.stringify(await redis.smembers(key))
          : type === 'zset' ? JSON.stringify(await redis.zrange(key, 0, -1))
          : type === 'stream' ? JSON.stringify(await redis.xrange(key, '-', '+'))
          : '';
        expectClean(`redis ${key}`, dump ?? '');
      }
    } finally {
      redis.disconnect();
    }
  });

  it('in the logs', () => {
    const log = readFileSync(relay.logFile, 'utf8');
    expect(log.length).toBeGreaterThan(0);
    expectClean('the log', log);
  });

  it('in the database (SQLite: the files, WAL included; PostgreSQL: every table)', async () => {
    const dump = await databaseDump(relay.env);
    expect(dump.length).toBeGreaterThan(0);
    expectClean('the database', dump);
  });
});
