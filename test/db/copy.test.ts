import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Browser, clickPadlock, formFields } from '../helpers/browser.js';
import { createDatabase } from '../helpers/postgres-server.js';
import { BOT_TOKEN, startTestRelay, type TestRelay } from '../helpers/test-relay.js';

/**
 * `npm run db:copy` (src/db/copy-cli.ts): a relay that ran on SQLite moves to PostgreSQL with
 * everything it had (docs/contract.md §6.3). A relay on the copy, with the same ENCRYPTION_KEY,
 * shows the same subscriptions and records, delivers with the copied tokens (the bot token and
 * the OAuth one, still decryptable), and resolves a condition opened before the move by editing
 * that same message.
 */
const run = promisify(execFile);
let dir: string;
let before: TestRelay;
let after: TestRelay | undefined;
let pgUrl: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-copy-'));
  pgUrl = await createDatabase(inject('postgresUrl'), 'relay_copy');
  before = await startTestRelay({ oauth: true, env: { DATABASE_URL: '', DATABASE_PATH: join(dir, 'relay.db') } });
});
afterAll(async () => {
  await after?.close();
  await before?.close();
  rmSync(dir, { recursive: true, force: true });
});

const copy = () =>
  run(process.execPath, ['dist/src/db/copy-cli.js', '--from', join(dir, 'relay.db'), '--to', pgUrl], {
    env: { PATH: process.env.PATH, ...before.env, DATABASE_URL: '', DATABASE_PATH: join(dir, 'relay.db') },
  });

describe('db:copy from SQLite to PostgreSQL', () => {
  it('keeps every subscription, token, installation, record and open condition', async () => {
    // On SQLite: a bot-token subscription with a condition still open, and an OAuth one.
    const withBot = await before.createSubscription({ recipient: 'U0ALICE' });
    const withOAuth = await before.createSubscription({ apiToken: '-', clientId: '-', recipient: 'U0BOB' });
    const browser = new Browser({ user: 'admin', password: before.config.adminPassword });
    const start = await clickPadlock(browser, before.web.url, withOAuth.id);
    const page = await browser.get(start.headers.get('location')!);
    const approved = await browser.postForm(`${before.sandbox.url}/oauth/v2/authorize`, { ...formFields(await page.text()), decision: 'allow' });
    const callback = new URL(approved.headers.get('location')!);
    expect((await browser.get(`${before.web.url}${callback.pathname}${callback.search}`)).status).toBe(200);
    const oauthToken = (before.sandbox.callsTo('oauth.v2.access').at(-1)!.response as { access_token: string }).access_token;

    const sent = [
      await before.api('POST', '/api/v1/alerts', { subscription: withBot.id, text: 'disk full', dedupKey: 'disk-db-1' }),
      await before.api('POST', '/api/v1/alerts', { subscription: withOAuth.id, text: 'through OAuth' }),
    ];
    const records = await Promise.all(sent.map((res) => before.waitForAlert(res.body.id, ['delivered', 'failed'])));
    expect(records.map((r) => r.status)).toEqual(['delivered', 'delivered']);
    const subscriptions = (await before.api('GET', '/api/v1/subscriptions')).body.subscriptions;
    const alerts = (await before.api('GET', '/api/v1/alerts?limit=1000')).body.alerts;
    // stop the relay on SQLite (its Slack stand-in stays: the tokens live there)
    await before.worker?.close();
    await before.web.close();

    const { stdout } = await copy();
    expect(stdout).toMatch(/done: 2 subscriptions, 1 oauth_installations, \d+ oauth_states, \d+ alerts, 1 slack_messages, 1 open_keys/);
    // a second run copies nothing twice
    await copy();

    after = await startTestRelay({
      env: {
        DATABASE_URL: pgUrl,
        ENCRYPTION_KEY: before.env.ENCRYPTION_KEY!,
        SLACK_API_URL: before.sandbox.apiUrl,
        ALLOWED_API_URLS: before.sandbox.url,
      },
    });
    expect((await after.api('GET', '/api/v1/subscriptions')).body.subscriptions).toEqual(subscriptions);
    expect((await after.api('GET', '/api/v1/alerts?limit=1000')).body.alerts).toEqual(alerts);

    // the copied tokens still open: both subscriptions deliver, each with its own token
    const botCall = before.sandbox.calls.length;
    const fresh = await after.api('POST', '/api/v1/alerts', { subscription: withBot.id, text: 'after the move' });
    const viaOAuth = await after.api('POST', '/api/v1/alerts', { subscription: withOAuth.id, text: 'after the move, OAuth' });
    const delivered = await Promise.all([fresh, viaOAuth].map((res) => after!.waitForAlert(res.body.id, ['delivered', 'failed'])));
    expect(delivered.map((r) => [r.status, r.tokenSource])).toEqual([['delivered', 'bot_token'], ['delivered', 'oauth']]);
    const tokens = before.sandbox.calls.slice(botCall).filter((c) => c.method === 'chat.postMessage').map((c) => c.token);
    expect(tokens.sort()).toEqual([BOT_TOKEN, oauthToken].sort());

    // the condition opened on SQLite resolves on PostgreSQL: the same message, edited
    const resolve = await after.api('POST', '/api/v1/alerts', { subscription: withBot.id, text: 'disk ok', dedupKey: 'disk-db-1', status: 'resolved' });
    const resolved = await after.waitForAlert(resolve.body.id, ['delivered', 'failed', 'suppressed']);
    expect(resolved).toMatchObject({ status: 'delivered', slack: records[0].slack });
    const message = before.sandbox.message(records[0].slack.channel, records[0].slack.ts)!;
    expect(JSON.stringify(message.blocks)).toContain(':white_check_mark: *Resolved*');
  }, 60_000);
});
