import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { Browser, clickPadlock, formFields } from '../helpers/browser.js';
import { removeRedisDir, startRedisServer, type TestRedis } from '../helpers/redis-server.js';
import { PROCESS_BOT_TOKEN, type RelayProcesses } from '../helpers/relay-processes.js';
import { startTestRelay, type TestRelay } from '../helpers/test-relay.js';
import { inspectRedis, type RedisInspector } from './helpers/redis-state.js';
import { apiAs, basicAuth, closeAll, pollUntil, readDb, recordCount, startFastRelay } from './helpers/relay.js';

/**
 * The smaller findings of the security review, each pinned by one test: the real web and worker
 * processes where the finding is about them (a delivery, logs, files, Redis), the in-process
 * relay or a pure function where it is about configuration or one route.
 */
const redisUrl = inject('redisUrl');
const ROOT = new URL('../../', import.meta.url).pathname;
const OAUTH = { clientId: '7777.8888', clientSecret: `csecret-${randomBytes(12).toString('hex')}` };
const STATE_SECRET = `statesecret-${randomBytes(12).toString('hex')}`;

let base: string;
let databasePath: string;
let proc: RelayProcesses;
let redis: RedisInspector;
let oauthRelay: TestRelay;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'relay-sec-'));
  // a folder that does not exist yet: the relay creates it
  databasePath = join(base, 'fresh', 'relay.db');
  proc = await startFastRelay({
    redisUrl,
    env: {
      LOG_LEVEL: 'debug',
      DATABASE_PATH: databasePath,
      SLACK_CLIENT_ID: OAUTH.clientId,
      SLACK_CLIENT_SECRET: OAUTH.clientSecret,
      SLACK_STATE_SECRET: STATE_SECRET,
    },
    sandbox: { oauth: { ...OAUTH, rotateTokens: true, tokenTtlSeconds: 3600 } },
  });
  const authorize = { SLACK_AUTHORIZE_URL: `${proc.sandbox.url}/oauth/v2/authorize` };
  await proc.startWeb(authorize);
  await proc.startWorker(authorize);
  redis = inspectRedis(redisUrl, proc.queuePrefix);
  // the in-process relay with OAuth (startTestRelay), sharing the real relay's intake key
  oauthRelay = await startTestRelay({ oauth: true, env: { API_KEYS: `${proc.intakeKey},other_${randomBytes(12).toString('hex')}` } });
}, 60_000);
afterAll(() =>
  closeAll(
    () => proc?.close(),
    () => oauthRelay?.close(),
    () => redis?.close(),
    () => base && rmSync(base, { recursive: true, force: true }),
  ));

const intake = () => apiAs(proc, proc.intakeKey);
const admin = () => ({ authorization: basicAuth(proc.env.ADMIN_PASSWORD!) });
const written = async () => ({ records: await recordCount(proc.api), jobs: await redis.jobTotal() });
const randomName = (prefix: string) => `${prefix} ${randomBytes(4).toString('hex')}`;

describe('the OAuth padlock', () => {
  const stateRows = () => readDb(oauthRelay.config.databasePath, (db) => (db.prepare('select count(*) as n from oauth_states').get() as { n: number }).n);
  const auth = () => ({ authorization: basicAuth(oauthRelay.config.adminPassword) });

  it('GET /oauth/start only shows the form (no state, no cookie); POST without CSRF is 403; with it 302 and an HttpOnly, SameSite=Lax cookie', async () => {
    const sub = await oauthRelay.createSubscription();
    const states = stateRows();
    const form = await fetch(`${oauthRelay.web.url}/oauth/start?subscription=${sub.id}`, { headers: auth(), redirect: 'manual' });
    const page = await form.text();
    expect(form.status).toBe(200);
    expect(form.headers.getSetCookie()).toEqual([]);
    expect(page).toContain('action="/oauth/start"');
    expect(stateRows(), 'GET created no OAuth state').toBe(states);

    const post = (body: Record<string, string>) =>
      fetch(`${oauthRelay.web.url}/oauth/start`, {
        method: 'POST',
        redirect: 'manual',
        headers: { ...auth(), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(body),
      });
    const noCsrf = await post({ subscription: sub.id });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.headers.getSetCookie()).toEqual([]);
    const forged = await post({ subscription: sub.id, _csrf: 'lz0abc.forged' });
    expect(forged.status).toBe(403);
    expect(stateRows()).toBe(states);

    const ok = await post(formFields(page));
    expect(ok.status).toBe(302);
    expect(new URL(ok.headers.get('location')!).pathname).toBe('/oauth/v2/authorize');
    const cookies = ok.headers.getSetCookie();
    const state = cookies.find((c) => c.startsWith('slack-app-oauth-state='));
    expect(state, cookies.join('\n')).toBeTruthy();
    expect(state).toMatch(/;\s*HttpOnly/i);
    expect(state).toMatch(/;\s*SameSite=Lax/i);
    expect(stateRows()).toBe(states + 1);
  });
});

describe('the notification fallback text', () => {
  it('is mrkdwn-escaped like the blocks: no <!channel>, mention or link reaches Slack unescaped', async () => {
    const hostile = '<!channel> <@U0ALICE> <https://evil.example|ok>';
    const sub = await proc.createSubscription({ recipient: 'U0ALICE' });
    const id = await proc.sendAlert({ subscription: sub.id, title: `Title ${hostile}`, text: `Text ${hostile}`, fields: { [`k ${hostile}`]: `v ${hostile}` } });
    const record = await proc.waitForAlert(id, ['delivered', 'failed'], 10_000);
    expect(record.status).toBe('delivered');
    const message = proc.sandbox.messages().find((m) => m.ts === record.slack.ts)!;
    expect(message).toBeTruthy();

    const raw = ['<!channel>', '<@U0ALICE>', '<https://evil.example|ok>'];
    expect(raw.filter((r) => message.text.includes(r)), `fallback text: ${message.text}`).toEqual([]);
    expect(message.text).toContain('&lt;!channel&gt; &lt;@U0ALICE&gt; &lt;https://evil.example|ok&gt;');

    // every mrkdwn text object of the blocks is escaped (a header is plain_text, which Slack never parses)
    const texts: { type: string; text: string }[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (node && typeof node === 'object') {
        const o = node as Record<string, unknown>;
        if ((o.type === 'mrkdwn' || o.type === 'plain_text') && typeof o.text === 'string') texts.push({ type: o.type, text: o.text });
        Object.values(o).forEach(walk);
      }
    };
    walk(message.blocks);
    const mrkdwn = texts.filter((t) => t.type === 'mrkdwn');
    expect(mrkdwn.length).toBeGreaterThanOrEqual(2);
    expect(mrkdwn.filter((t) => raw.some((r) => t.text.includes(r))), 'unescaped mrkdwn in the blocks').toEqual([]);
    // the text's section and the field's
    expect(mrkdwn.filter((t) => t.text.includes('&lt;!channel&gt; &lt;@U0ALICE&gt; &lt;https://evil.example|ok&gt;')).length).toBeGreaterThanOrEqual(2);
  });
});

describe('logs at LOG_LEVEL=debug', () => {
  it('hold neither the client secret, the state secret, OAuth codes, states nor tokens after a whole OAuth flow', async () => {
    const browser = new Browser({ user: 'admin', password: proc.env.ADMIN_PASSWORD! });
    const sub = await proc.createSubscription({ apiToken: '-', clientId: '-', recipient: 'U0ALICE' });
    const authorizeOnce = async () => {
      const start = await clickPadlock(browser, proc.url, sub.id);
      expect(start.status).toBe(302);
      const authorizeUrl = new URL(start.headers.get('location')!);
      const page = await browser.get(authorizeUrl.toString());
      const approved = await browser.postForm(`${proc.sandbox.url}/oauth/v2/authorize`, { ...formFields(await page.text()), decision: 'allow' });
      expect(approved.status).toBe(302);
      return { state: authorizeUrl.searchParams.get('state')!, callback: new URL(approved.headers.get('location')!) };
    };
    const secrets: Record<string, string> = {
      'client secret': OAUTH.clientSecret,
      'state secret': STATE_SECRET,
      'admin password': proc.env.ADMIN_PASSWORD!,
      'admin basic credentials': Buffer.from(`admin:${proc.env.ADMIN_PASSWORD}`).toString('base64'),
      'admin API key': proc.apiKey,
      'intake API key': proc.intakeKey,
      'encryption key': proc.env.ENCRYPTION_KEY!,
      'bot token': PROCESS_BOT_TOKEN,
    };

    // 1. a successful flow, then a delivery with the OAuth token
    const first = await authorizeOnce();
    secrets['state (1st flow)'] = first.state;
    secrets['OAuth code (1st flow)'] = first.callback.searchParams.get('code')!;
    const done = await browser.get(`${proc.url}${first.callback.pathname}${first.callback.search}`);
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('Authorization Complete');
    const exchange = proc.sandbox.callsTo('oauth.v2.access').at(-1)!.response as { access_token: string; refresh_token?: string };
    secrets['OAuth access token'] = exchange.access_token;
    if (exchange.refresh_token) secrets['OAuth refresh token'] = exchange.refresh_token;
    const delivered = await proc.waitForAlert(await proc.sendAlert({ subscription: sub.id, text: 'via OAuth' }), ['delivered', 'failed'], 10_000);
    expect(delivered).toMatchObject({ status: 'delivered', tokenSource: 'oauth' });
    // a bot-token delivery and a sync too, so the worker and the web both handle a bot token
    const botSub = await proc.createSubscription({ recipient: 'U0ALICE' });
    expect((await proc.api('POST', `/api/v1/subscriptions/${botSub.id}/sync`)).body.lastSync.status).toBe('pending'); // auth.test passed; the test DM decides

    // 2. a flow whose code Slack refuses (the exchange fails): the refusal path logs too
    const second = await authorizeOnce();
    secrets['state (2nd flow)'] = second.state;
    const bogus = `${Math.floor(Date.now() / 1000)}.${randomBytes(10).toString('hex')}`;
    secrets['refused OAuth code'] = bogus;
    second.callback.searchParams.set('code', bogus);
    const refused = await browser.get(`${proc.url}${second.callback.pathname}${second.callback.search}`);
    expect(refused.status).toBe(400);
    // 3. a replayed callback and a wrong key
    await browser.get(`${proc.url}${first.callback.pathname}${first.callback.search}`);
    await fetch(`${proc.url}/api/v1/alerts`, { headers: { authorization: `Bearer ${proc.intakeKey}x` } });

    await new Promise((r) => setTimeout(r, 300));
    const output = proc.dump();
    // the refused exchange and the replay were logged (by the OAuth library, through the relay's logger)
    expect(output).toMatch(/"component":"oauth"/);
    const leaked = Object.entries(secrets)
      .filter(([, value]) => value && output.includes(value))
      .map(([name, value]) => {
        const at = output.indexOf(value);
        return `${name}: …${output.slice(Math.max(0, at - 150), at + value.length + 30)}…`;
      });
    expect(leaked, 'secrets found in the web and worker logs').toEqual([]);
  });
});

describe('tokens with control or other non-printable characters', () => {
  const bad = (char: string) => `xoxb-111-222-ctl${randomBytes(6).toString('hex')}${char}tail${randomBytes(6).toString('hex')}`;
  const chars: Record<string, string> = { BEL: '\u0007', LF: '\n', CR: '\r', TAB: '\t', DEL: '\u007f', NBSP: '\u00a0', ZWSP: '\u200b', LSEP: '\u2028', NUL: '\u0000' };
  const secretParts = (token: string) => token.split(/[^A-Za-z0-9-]/).filter((part) => part.length >= 8);

  it('are refused at create and PATCH with 400, nothing is stored, and no answer echoes them', async () => {
    const before = (await proc.api('GET', '/api/v1/subscriptions')).body.subscriptions.length;
    const sub = await proc.createSubscription({ recipient: 'U0ALICE' });
    const answers: { what: string; status: number; echoed: boolean }[] = [];
    for (const [name, char] of Object.entries(chars)) {
      const token = bad(char);
      const created = await proc.api('POST', '/api/v1/subscriptions', { name: randomName(`Ctl ${name}`), version: 'v1.0', apiToken: token, clientId: '1.2', recipient: 'U0ALICE' });
      answers.push({ what: `create ${name}`, status: created.status, echoed: secretParts(token).some((p) => created.text.includes(p)) });
      const patched = await proc.api('PATCH', `/api/v1/subscriptions/${sub.id}`, { apiToken: token });
      answers.push({ what: `PATCH ${name}`, status: patched.status, echoed: secretParts(token).some((p) => patched.text.includes(p)) });
    }
    expect(answers.filter((a) => a.status !== 400 || a.echoed)).toEqual([]);
    expect((await proc.api('GET', '/api/v1/subscriptions')).body.subscriptions.length).toBe(before + 1);
    const after = (await proc.api('GET', `/api/v1/subscriptions/${sub.id}`)).body;
    expect({ apiToken: after.apiToken, updatedAt: after.updatedAt }).toEqual({ apiToken: sub.apiToken, updatedAt: sub.updatedAt });
    // and the stored token still works (it was not replaced)
    expect((await proc.api('POST', `/api/v1/subscriptions/${sub.id}/sync`)).body.lastSync.status).toBe('pending'); // auth.test passed with the stored token
  });

  it('are refused by the settings form too, and the form shown again does not echo the token', async () => {
    const newPage = await fetch(`${proc.url}/subscriptions/new`, { headers: admin() });
    const { _csrf } = formFields(await newPage.text());
    const token = bad('\u0007');
    const res = await fetch(`${proc.url}/subscriptions`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...admin(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: _csrf!, name: randomName('Ctl form'), version: 'v1.0', apiUrl: proc.sandbox.apiUrl, apiToken: token, clientId: '1.2', recipient: 'U0ALICE' }),
    });
    const page = await res.text();
    expect(res.status).toBe(400);
    const echoed = secretParts(token).filter((p) => page.includes(p));
    const shown = (html: string) => /<input id="f-apiToken"[^>]*>/.exec(html)?.[0] ?? '';
    expect(echoed, `the re-shown form holds the token: ${shown(page)}`).toEqual([]);
  });

  it('…nor does the form shown again after another error (a valid token, a taken name)', async () => {
    const taken = await proc.createSubscription();
    const newPage = await fetch(`${proc.url}/subscriptions/new`, { headers: admin() });
    const { _csrf } = formFields(await newPage.text());
    const token = `xoxb-333-444-valid${randomBytes(8).toString('hex')}`;
    const res = await fetch(`${proc.url}/subscriptions`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...admin(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: _csrf!, name: taken.name, version: 'v1.0', apiUrl: proc.sandbox.apiUrl, apiToken: token, clientId: '1.2' }),
    });
    const page = await res.text();
    expect(res.status).toBe(400);
    expect(page).toMatch(/already exists/);
    const input = /<input id="f-apiToken"[^>]*>/.exec(page)?.[0] ?? '';
    expect(page.includes(token), `the re-shown form holds the token: ${input}`).toBe(false);
  });
});

describe('subscription names', () => {
  it('shaped like an id (sub_ + 26 base32 characters) are refused at create and rename', async () => {
    const existing = await proc.createSubscription();
    const shaped = ['sub_01J9ZZZZZZZZZZZZZZZZZZZZZZ', 'sub_01j9zzzzzzzzzzzzzzzzzzzzzz', existing.id, ` ${existing.id} `];
    const before = (await proc.api('GET', '/api/v1/subscriptions')).body.subscriptions.length;
    const results = [];
    for (const name of shaped) {
      const created = await proc.api('POST', '/api/v1/subscriptions', { name, version: 'v1.0', apiToken: 'xoxb-1-2-namenamename', clientId: '1.2' });
      const renamed = await proc.api('PATCH', `/api/v1/subscriptions/${existing.id}`, { name });
      results.push({ name, create: [created.status, created.body?.error], rename: [renamed.status, renamed.body?.error] });
    }
    expect(results.filter((r) => r.create[0] !== 400 || r.create[1] !== 'invalid_request' || r.rename[0] !== 400 || r.rename[1] !== 'invalid_request')).toEqual([]);
    expect((await proc.api('GET', '/api/v1/subscriptions')).body.subscriptions.length).toBe(before);
    expect((await proc.api('GET', `/api/v1/subscriptions/${existing.id}`)).body.name).toBe(existing.name);
    // names merely starting with sub_ are fine
    expect((await proc.api('POST', '/api/v1/subscriptions', { name: randomName('sub_ops'), version: 'v1', apiToken: '-', clientId: '-' })).status).toBe(201);
  });
});

describe('idempotency keys', () => {
  let subId: string;
  beforeAll(async () => {
    subId = (await proc.createSubscription({ recipient: 'U0NOBODY' })).id;
  });

  it('a batch’s derived per-item keys cannot collide with a key a client sends (K on a batch, then K#1 alone)', async () => {
    const api = intake();
    const K = `nightly-${randomBytes(4).toString('hex')}`;
    const batch = await api('POST', '/api/v1/alerts/batch', { alerts: [{ subscription: subId, text: 'job A' }, { subscription: subId, text: 'job B' }] }, { 'Idempotency-Key': K });
    expect(batch.status).toBe(202);
    const batchIds = batch.body.alerts.map((a: { id: string }) => a.id);
    // the same payload a client might send under "K#1": a new alert, not the batch's item 1
    for (const key of [`${K}#1`, `${K}#0`, `${K}.1`, `${K}1`]) {
      const single = await api('POST', '/api/v1/alerts', { subscription: subId, text: 'job B', idempotencyKey: key });
      expect({ key, status: single.status, reused: batchIds.includes(single.body.id) }).toEqual({ key, status: 202, reused: false });
    }
    // the batch repeated under K is still a no-op: the same ids
    const again = await api('POST', '/api/v1/alerts/batch', { alerts: [{ subscription: subId, text: 'job A' }, { subscription: subId, text: 'job B' }] }, { 'Idempotency-Key': K });
    expect(again.body.alerts.map((a: { id: string }) => a.id)).toEqual(batchIds);
  });

  it('are bound to their payload: same key + same payload → 200 and the first answer; another payload → 409, nothing written (singles and batches)', async () => {
    const api = intake();
    const key = `deploy-${randomBytes(4).toString('hex')}`;
    const first = await api('POST', '/api/v1/alerts', { subscription: subId, text: 'deploy 42 failed', severity: 'error' }, { 'Idempotency-Key': key });
    expect(first.status).toBe(202);

    // same payload (key order and the subscription's name instead of its id do not matter)
    const subName = (await proc.api('GET', `/api/v1/subscriptions/${subId}`)).body.name;
    const same = await api('POST', '/api/v1/alerts', { severity: 'error', text: 'deploy 42 failed', subscription: subName }, { 'Idempotency-Key': key });
    // the first alert's id, and its status as it is now (its delivery may have moved on)
    expect({ status: same.status, id: same.body.id }).toEqual({ status: 200, id: first.body.id });

    let before = await written();
    for (const other of [{ text: 'deploy 43 failed', severity: 'error' }, { text: 'deploy 42 failed', severity: 'critical' }, { text: 'deploy 42 failed', severity: 'error', recipient: 'U0BOB' }]) {
      const reused = await api('POST', '/api/v1/alerts', { subscription: subId, ...other }, { 'Idempotency-Key': key });
      expect({ status: reused.status, error: reused.body.error }).toEqual({ status: 409, error: 'idempotency_key_reused' });
      // the body's idempotencyKey is the same key
      const inBody = await api('POST', '/api/v1/alerts', { subscription: subId, ...other, idempotencyKey: key });
      expect(inBody.status).toBe(409);
    }
    expect(await written(), 'a 409 writes nothing').toEqual(before);

    // inside a batch: one reused key with another payload refuses the whole batch
    const freshKey = `fresh-${randomBytes(4).toString('hex')}`;
    const mixed = await api('POST', '/api/v1/alerts/batch', {
      alerts: [
        { subscription: subId, text: 'a new one', idempotencyKey: freshKey },
        { subscription: subId, text: 'deploy 44 failed', severity: 'error', idempotencyKey: key },
      ],
    });
    expect({ status: mixed.status, error: mixed.body.error }).toEqual({ status: 409, error: 'idempotency_key_reused' });
    expect(await written(), 'the refused batch wrote nothing').toEqual(before);
    // the batch's other item was not stored: it is new now
    const alone = await api('POST', '/api/v1/alerts', { subscription: subId, text: 'a new one', idempotencyKey: freshKey });
    expect(alone.status).toBe(202);

    // a batch header key bound to its items: the same batch again → its ids; other items → 409
    const header = `batch-${randomBytes(4).toString('hex')}`;
    const items = { alerts: [{ subscription: subId, text: 'one' }, { subscription: subId, text: 'two' }] };
    const b1 = await api('POST', '/api/v1/alerts/batch', items, { 'Idempotency-Key': header });
    expect(b1.status).toBe(202);
    const b2 = await api('POST', '/api/v1/alerts/batch', items, { 'Idempotency-Key': header });
    // (the same alerts; their statuses are what they are now)
    expect(b2.body.alerts.map((a: { id: string }) => a.id)).toEqual(b1.body.alerts.map((a: { id: string }) => a.id));
    before = await written();
    const b3 = await api('POST', '/api/v1/alerts/batch', { alerts: [{ subscription: subId, text: 'one' }, { subscription: subId, text: 'TWO' }] }, { 'Idempotency-Key': header });
    expect({ status: b3.status, error: b3.body.error }).toEqual({ status: 409, error: 'idempotency_key_reused' });
    expect(await written()).toEqual(before);
  });
});

describe('production configuration', () => {
  const production = (overrides: Record<string, string>) => ({
    NODE_ENV: 'production',
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    API_KEYS: `prod_${randomBytes(16).toString('hex')}`,
    ADMIN_PASSWORD: 'a-long-enough-password',
    DATABASE_PATH: join(base, 'prod', 'relay.db'),
    ...overrides,
  });
  const cases: Record<string, { env: Record<string, string>; message: RegExp }> = {
    'ADMIN_PASSWORD=pw': { env: { ADMIN_PASSWORD: 'pw' }, message: /ADMIN_PASSWORD needs at least 12 characters/ },
    'a 10-character API key': { env: { API_KEYS: '0123456789' }, message: /keys of at least 24 characters/ },
    'a 10-character admin key': { env: { ADMIN_API_KEYS: 'abcdefghij' }, message: /keys of at least 24 characters/ },
  };

  it('loadConfig refuses a short ADMIN_PASSWORD and short keys with clear messages (and accepts long ones)', () => {
    expect(() => loadConfig(production({}))).not.toThrow();
    for (const [name, { env, message }] of Object.entries(cases)) {
      let error: unknown;
      try {
        loadConfig(production(env));
      } catch (e) {
        error = e;
      }
      expect(error, name).toBeInstanceOf(ConfigError);
      expect((error as Error).message, name).toMatch(message);
      // the message names the rule, not the secret
      for (const value of Object.values(env)) expect((error as Error).message).not.toContain(value);
    }
  });

  it('a real web process (node dist/src/server.js) with those settings exits non-zero with that message', async () => {
    for (const [name, { env, message }] of Object.entries(cases).slice(0, 2)) {
      const child = spawn(process.execPath, [join(ROOT, 'dist/src/server.js')], {
        cwd: base,
        env: { PATH: process.env.PATH, ...production(env), REDIS_URL: redisUrl, PORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c));
      child.stderr.on('data', (c: Buffer) => (output += c));
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('close', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      expect({ name, exitedNonZero: code !== 0 && code !== null }, output).toEqual({ name, exitedNonZero: true });
      expect(output, name).toMatch(message);
      expect(output).not.toMatch(/web process listening/);
    }
  });
});

describe('API key ids stored with the records', () => {
  it('are a keyed HMAC: not sha256(key) in any form or prefix, stable per key, different under another ENCRYPTION_KEY', async () => {
    const sub = await proc.createSubscription({ recipient: 'U0NOBODY' });
    const a1 = (await intake()('POST', '/api/v1/alerts', { subscription: sub.id, text: 'id 1' })).body.id;
    const a2 = (await intake()('POST', '/api/v1/alerts', { subscription: sub.id, text: 'id 2' })).body.id;
    const stored = (id: string) => readDb(databasePath, (db) => (db.prepare('select api_key_id as k from alerts where id = ?').get(id) as { k: string }).k);
    const id = stored(a1);
    expect(id).toBeTruthy();
    expect(stored(a2)).toBe(id);

    const sha = createHash('sha256').update(proc.intakeKey).digest();
    const forms = [sha.toString('hex'), sha.toString('base64'), sha.toString('base64url'), createHash('sha256').update(`${proc.intakeKey}\n`).digest('hex')];
    const overlap = forms.filter((form) => form.startsWith(id) || id.startsWith(form.slice(0, 8)) || form.includes(id.slice(0, 8)));
    expect(overlap, `stored id ${id}`).toEqual([]);
    expect(id).not.toContain(proc.intakeKey);

    // the same key on the in-process relay, whose ENCRYPTION_KEY differs
    expect(oauthRelay.config.encryptionKey.toString('base64')).not.toBe(proc.env.ENCRYPTION_KEY);
    const osub = await oauthRelay.createSubscription();
    const other = await apiAs({ url: oauthRelay.web.url }, proc.intakeKey)('POST', '/api/v1/alerts', { subscription: osub.id, text: 'same key, other relay' });
    expect(other.status).toBe(202);
    const otherId = readDb(oauthRelay.config.databasePath, (db) => (db.prepare('select api_key_id as k from alerts where id = ?').get(other.body.id) as { k: string }).k);
    expect(otherId).toBeTruthy();
    expect(otherId).not.toBe(id);
  });
});

describe('the database file', () => {
  it('in a fresh DATABASE_PATH folder is mode 0600, its folder 0700 (and SQLite’s -wal/-shm files 0600)', () => {
    const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
    const files = [databasePath, `${databasePath}-wal`, `${databasePath}-shm`].filter(existsSync);
    expect(files.length).toBeGreaterThanOrEqual(1);
    expect(Object.fromEntries(files.map((f) => [f.slice(base.length), mode(f)]))).toEqual(Object.fromEntries(files.map((f) => [f.slice(base.length), '600'])));
    expect(mode(join(base, 'fresh'))).toBe('700');
  });
});

describe('Cache-Control: no-store', () => {
  it('on /api answers (success and errors), the pages, and the OAuth pages', async () => {
    const sub = await proc.createSubscription();
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${proc.url}${path}`, { headers, redirect: 'manual' });
      await res.arrayBuffer();
      return { path, status: res.status, cacheControl: res.headers.get('cache-control') };
    };
    const bearer = { authorization: `Bearer ${proc.intakeKey}` };
    const answers = [
      await get('/api/v1/alerts', bearer),
      await get('/api/v1/alerts/alr_00000000000000000000000000', bearer),
      await get('/api/v1/alerts'),
      await get(`/api/v1/subscriptions/${sub.id}`, { authorization: `Bearer ${proc.apiKey}` }),
      await get('/', admin()),
      await get(`/subscriptions/${sub.id}`, admin()),
      await get(`/oauth/start?subscription=${sub.id}`, admin()),
      await get('/oauth/callback?code=x&state=y'),
      await get('/admin/queues', admin()),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 404, 401, 200, 200, 200, 200, 400, 200]);
    expect(answers.filter((a) => a.cacheControl !== 'no-store')).toEqual([]);
  });
});

describe('token drift', () => {
  it('a subscription cannot move its apiUrl without a real new token in the same request (token_required)', async () => {
    const elsewhere = `http://127.0.0.1:${proc.spareApiPort}/api/`;
    const oauthOnly = await proc.createSubscription({ apiToken: '-', clientId: '-' });
    const bot = await proc.createSubscription();
    const attempts: [string, string, Record<string, unknown>][] = [
      ['placeholder sub, no token', oauthOnly.id, { apiUrl: elsewhere }],
      ['placeholder sub, token "-"', oauthOnly.id, { apiUrl: elsewhere, apiToken: '-' }],
      ['placeholder sub, token " - "', oauthOnly.id, { apiUrl: elsewhere, apiToken: ' - ' }],
      ['placeholder sub, other fields too', oauthOnly.id, { apiUrl: elsewhere, clientId: '1.2', name: randomName('Drift') }],
      ['bot sub, no token', bot.id, { apiUrl: elsewhere }],
      ['bot sub, its masked token', bot.id, { apiUrl: elsewhere, apiToken: bot.apiToken }],
      ['bot sub, token "-"', bot.id, { apiUrl: elsewhere, apiToken: '-' }],
    ];
    const results = [];
    for (const [what, id, body] of attempts) {
      const res = await proc.api('PATCH', `/api/v1/subscriptions/${id}`, body);
      results.push({ what, status: res.status, error: res.body?.error });
    }
    expect(results.filter((r) => r.status !== 400 || r.error !== 'token_required')).toEqual([]);
    expect((await proc.api('GET', `/api/v1/subscriptions/${oauthOnly.id}`)).body).toMatchObject({ apiUrl: oauthOnly.apiUrl, clientId: '-', name: oauthOnly.name });
    expect((await proc.api('GET', `/api/v1/subscriptions/${bot.id}`)).body).toMatchObject({ apiUrl: bot.apiUrl, apiToken: bot.apiToken });
    // with a real new token it moves
    const moved = await proc.api('PATCH', `/api/v1/subscriptions/${oauthOnly.id}`, { apiUrl: elsewhere, apiToken: 'xoxb-9-9-movedmovedmoved' });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body.apiUrl).toBe(elsewhere);
  });
});

describe('/readyz under Redis memory pressure', () => {
  let own: TestRedis;
  let relay: RelayProcesses;
  afterAll(() => closeAll(() => relay?.close(), () => own && removeRedisDir(own)));

  it('answers 503 with checks.redis "memory_full" at ≥ 90 % of maxmemory, and 200 again when it is raised', async () => {
    own = await startRedisServer();
    relay = await startFastRelay({ redisUrl: own.url });
    await relay.startWeb();
    const client = new Redis(own.url);
    try {
      const ready = async () => {
        const res = await fetch(`${relay.url}/readyz`);
        return { status: res.status, body: (await res.json()) as { checks: { redis: string } } };
      };
      expect((await ready()).status).toBe(200);
      const used = Number(/^used_memory:(\d+)/m.exec(await client.info('memory'))![1]);
      // just above used_memory: used is ~93 % of it
      await client.config('SET', 'maxmemory', String(Math.ceil(used / 0.93)));
      const full = await pollUntil(async () => {
        const r = await ready();
        return r.status === 503 ? r : null;
      }, 5000, '/readyz 503');
      expect(full.body.checks.redis).toBe('memory_full');
      await client.config('SET', 'maxmemory', String(used * 20));
      const back = await pollUntil(async () => {
        const r = await ready();
        return r.status === 200 ? r : null;
      }, 5000, '/readyz 200 again');
      expect(back.body.checks.redis).toBe('ok');
    } finally {
      await client.config('SET', 'maxmemory', '0').catch(() => {});
      client.disconnect();
    }
  });
});

describe('failed jobs in Redis', () => {
  it('carry removeOnFail with age ≤ 7 days and count ≤ 10,000 in their opts (both queues)', async () => {
    const sub = await proc.createSubscription({ recipient: 'U0ALICE' });
    proc.sandbox.inject({ kind: 'error', error: 'channel_not_found', method: 'chat.postMessage', times: 2 });
    const ongoing = await proc.sendAlert({ subscription: sub.id, text: 'to fail' });
    const initial = await proc.sendAlert({ subscription: sub.id, text: 'to fail too', transfer: 'initial' });
    for (const id of [ongoing, initial]) expect((await proc.waitForAlert(id, ['failed', 'delivered'], 10_000)).status).toBe('failed');

    const checks = [];
    for (const [queue, id] of [['alerts-ongoing', ongoing], ['alerts-initial', initial]] as const) {
      const job = await pollUntil(async () => {
        const j = await Job.fromId(redis.queues[queue], id);
        return j && (await j.isFailed()) ? j : null;
      }, 5000, `${queue} job failed`);
      const raw = JSON.parse((await redis.redis.hget(`${proc.queuePrefix}:${queue}:${id}`, 'opts'))!) as Record<string, unknown>;
      checks.push({ queue, removeOnFail: job.opts.removeOnFail, raw: raw.removeOnFail ?? raw.rof ?? null });
    }
    for (const check of checks) {
      const rof = check.removeOnFail as { age?: number; count?: number };
      expect(rof, JSON.stringify(check)).toBeTypeOf('object');
      expect(rof.age, JSON.stringify(check)).toBeGreaterThan(0);
      expect(rof.age!).toBeLessThanOrEqual(7 * 24 * 3600);
      expect(rof.count, JSON.stringify(check)).toBeGreaterThan(0);
      expect(rof.count!).toBeLessThanOrEqual(10_000);
    }
  });
});
