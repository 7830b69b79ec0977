import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RelayProcesses } from '../helpers/relay-processes.js';
import { inspectRedis, type RedisInspector } from './helpers/redis-state.js';
import { apiAs, basicAuth, closeAll, startFastRelay } from './helpers/relay.js';
import { json, startRecordingServer, startSlackStandIn, type RecordingServer, type Reply, type SlackStandIn } from './helpers/servers.js';

/**
 * SSRF and untrusted answers (docs/contract.md §6.2), against the real web and worker processes
 * on real Redis:
 * - no spelling of a loopback, link-local or userinfo URL gets past save (create or PATCH), so no
 *   manual sync or delivery can ever reach the loopback "internal service";
 * - an allowed origin whose NAME resolves to loopback saves, but every connection to it is refused
 *   at connect time (`egress_refused`), and the internal service sees no request;
 * - what a hostile (allowed) Slack answers never comes back out: not in API answers, /metrics,
 *   Redis, Bull Board, the pages or the logs.
 */

const redisUrl = inject('redisUrl');
let relay: RelayProcesses;
/** the internal service the URL forms aim at (port P, not allowed) */
let internal: RecordingServer;
/** the internal service behind the allowed name `localhost:Q` */
let internalByName: RecordingServer;
let redis: RedisInspector;
const token = () => `xoxb-${randomBytes(5).toString('hex')}-${randomBytes(5).toString('hex')}-ssrfSSRFssrf${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  internal = await startRecordingServer();
  internalByName = await startRecordingServer();
  relay = await startFastRelay({ redisUrl });
  const allowed = { ALLOWED_API_URLS: `http://127.0.0.1:${relay.spareApiPort},http://localhost:${internalByName.port}` };
  await relay.startWeb(allowed);
  await relay.startWorker(allowed);
  redis = inspectRedis(redisUrl, relay.queuePrefix);
});
afterAll(() =>
  closeAll(
    () => relay?.close(),
    () => redis?.close(),
    () => internal?.close(),
    () => internalByName?.close(),
  ));

const subscriptionCount = async () => (await relay.api('GET', '/api/v1/subscriptions')).body.subscriptions.length as number;

function hostileForms(): string[] {
  const P = internal.port;
  const allowedHost = `127.0.0.1:${relay.spareApiPort}`;
  return [
    `http://127.0.0.1:${P}/api/`,
    `http://2130706433:${P}/`,
    `http://0x7f.1:${P}/`,
    `http://0177.0.0.1:${P}/`,
    `http://[::ffff:127.0.0.1]:${P}/`,
    `http://[::1]:${P}/`,
    `http://localhost:${P}/`,
    `HTTP://127.0.0.1:${P}/`,
    `http://127.0.0.1.:${P}/`,
    `http://user:pw@127.0.0.1:${P}/`,
    `http://${allowedHost}@127.0.0.1:${P}/`,
    'http://169.254.169.254/latest/meta-data/',
    `http://${allowedHost}/api/?x=`,
    `http://${allowedHost}/api/#x`,
    // a few more spellings of the same
    `http://127.1:${P}/`,
    `http://0.0.0.0:${P}/`,
    `http://[::ffff:7f00:1]:${P}/`,
    `http://user@${allowedHost}/api/`,
    `http://${allowedHost}/api/?`,
    `http://${allowedHost}/api/#`,
  ];
}

describe('apiUrl forms that point at the internal service', () => {
  it('are refused at create and PATCH with 400 api_url_not_allowed, store nothing, and no sync or delivery reaches the service', async () => {
    const forms = hostileForms();
    const before = await subscriptionCount();

    const created = [];
    for (const apiUrl of forms) {
      const res = await relay.api('POST', '/api/v1/subscriptions', {
        name: `Hostile ${randomBytes(4).toString('hex')}`,
        version: 'v1.0',
        apiUrl,
        apiToken: token(),
        clientId: '1234.5678',
        recipient: 'U0ALICE',
      });
      created.push({ apiUrl, status: res.status, error: res.body?.error });
    }
    expect(created.filter((r) => r.status !== 400 || r.error !== 'api_url_not_allowed'), 'create: every form is api_url_not_allowed').toEqual([]);
    expect(await subscriptionCount()).toBe(before);

    // PATCH: a subscription on the sandbox (allowed) may not be moved to any of them
    const sub = await relay.createSubscription({ recipient: 'U0ALICE' });
    const patched = [];
    for (const apiUrl of forms) {
      const res = await relay.api('PATCH', `/api/v1/subscriptions/${sub.id}`, { apiUrl, apiToken: token(), name: `Moved ${randomBytes(3).toString('hex')}` });
      patched.push({ apiUrl, status: res.status, error: res.body?.error });
    }
    expect(patched.filter((r) => r.status !== 400 || r.error !== 'api_url_not_allowed'), 'PATCH: every form is api_url_not_allowed').toEqual([]);
    const after = (await relay.api('GET', `/api/v1/subscriptions/${sub.id}`)).body;
    expect(after, 'a refused PATCH changes nothing').toMatchObject({ apiUrl: sub.apiUrl, name: sub.name, apiToken: sub.apiToken, updatedAt: sub.updatedAt });

    // the pages' form takes the same path (one form is enough to show it)
    const auth = basicAuth(relay.env.ADMIN_PASSWORD!);
    const newPage = await fetch(`${relay.url}/subscriptions/new`, { headers: { authorization: auth } });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await newPage.text())?.[1];
    expect(csrf).toBeTruthy();
    const form = await fetch(`${relay.url}/subscriptions`, {
      method: 'POST',
      redirect: 'manual',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf!, name: 'Hostile page', version: 'v1.0', apiUrl: forms[1]!, apiToken: token(), clientId: '1.2', recipient: 'U0ALICE' }),
    });
    expect(form.status, 'the settings form refuses it too').toBe(400);
    expect(await subscriptionCount()).toBe(before + 1);

    // the subscription that stayed on the sandbox: a manual sync and a delivery go there, nowhere else
    const sync = await relay.api('POST', `/api/v1/subscriptions/${sub.id}/sync`);
    expect(sync.status).toBe(202);
    expect(sync.body.lastSync).toMatchObject({ status: 'pending' }); // auth.test passed; the test DM decides
    const record = await relay.waitForAlert(await relay.sendAlert({ subscription: sub.id, text: 'still on the sandbox' }), ['delivered', 'failed'], 10_000);
    expect(record.status).toBe('delivered');
    await relay.waitForAlert(sync.body.alertId, ['delivered', 'failed'], 10_000);

    expect(internal.requests.map((r) => `${r.method} ${r.local}:${r.port}${r.url}`), 'the internal service was never contacted').toEqual([]);
  });
});

describe('an allowed origin whose name resolves to loopback (http://localhost:Q in ALLOWED_API_URLS)', () => {
  it('saves, but the manual sync answers egress_refused and a delivery fails egress_refused; the service gets no request', async () => {
    const apiUrl = `http://localhost:${internalByName.port}/api/`;
    const botToken = token();
    const create = await relay.api('POST', '/api/v1/subscriptions', {
      name: `By name ${randomBytes(4).toString('hex')}`,
      version: 'v1.0',
      apiUrl,
      apiToken: botToken,
      clientId: '1234.5678',
      recipient: 'U0ALICE',
    });
    expect(create.status, create.text).toBe(201);
    const sub = create.body;

    const sync = await relay.api('POST', `/api/v1/subscriptions/${sub.id}/sync`);
    const id = await relay.sendAlert({ subscription: sub.id, text: 'to the internal service?' });
    const record = await relay.waitForAlert(id, ['delivered', 'failed'], 15_000);
    const seen = internalByName.requests.map(
      (r) => `${r.method} ${r.local}:${r.port}${r.url} authorization=${r.headers.authorization === `Bearer ${botToken}` ? "the subscription's bot token" : String(r.headers.authorization ?? 'none').slice(0, 12)}`,
    );

    // one comparison, so that a failure shows all three facts at once
    expect(
      {
        sync: [sync.status, sync.body.lastSync?.status, sync.body.lastSync?.error?.code],
        record: [record.status, record.error?.code],
        requestsToInternalService: seen,
      },
      `sync answer: ${sync.text}\nrecord: ${JSON.stringify(record)}`,
    ).toEqual({ sync: [202, 'failed', 'egress_refused'], record: ['failed', 'egress_refused'], requestsToInternalService: [] });
  });

  it('…also on a relay where no allowed origin names 127.0.0.1 literally (SLACK_API_URL on slack.com)', async () => {
    const service = await startRecordingServer();
    const lone = await startFastRelay({
      redisUrl,
      env: { SLACK_API_URL: 'https://slack.com/api/', ALLOWED_API_URLS: `http://localhost:${service.port}` },
    });
    try {
      await lone.startWeb();
      await lone.startWorker();
      const create = await lone.api('POST', '/api/v1/subscriptions', {
        name: 'By name only',
        version: 'v1.0',
        apiUrl: `http://localhost:${service.port}/api/`,
        apiToken: token(),
        clientId: '1234.5678',
        recipient: 'U0ALICE',
      });
      expect(create.status, create.text).toBe(201);
      const sync = await lone.api('POST', `/api/v1/subscriptions/${create.body.id}/sync`);
      const record = await lone.waitForAlert(await lone.sendAlert({ subscription: create.body.id, text: 'x' }), ['delivered', 'failed'], 15_000);
      expect(
        {
          sync: [sync.status, sync.body.lastSync?.status, sync.body.lastSync?.error?.code],
          record: [record.status, record.error?.code],
          requestsToInternalService: service.requests.map((r) => `${r.method} ${r.url}`),
        },
        `sync answer: ${sync.text}\nrecord: ${JSON.stringify(record)}`,
      ).toEqual({ sync: [202, 'failed', 'egress_refused'], record: ['failed', 'egress_refused'], requestsToInternalService: [] });
    } finally {
      await lone.close();
      await service.close();
    }
  });
});

describe('a hostile Slack on an allowed origin', () => {
  let standIn: SlackStandIn;
  const marker = (what: string) => `MRK${what}${randomBytes(6).toString('hex')}`;
  const M = {
    html: marker('html'),
    json: marker('json'),
    big: marker('big'),
    chunked: marker('chunked'),
    meta: marker('meta'),
    // code-shaped but 65 characters: one over the limit
    longcode: `mrklongcode${randomBytes(6).toString('hex')}`.padEnd(65, 'z'),
  };
  const bigBody = (m: string) => JSON.stringify({ ok: false, error: m, pad: `${m} `.repeat(Math.ceil((2 * 1024 * 1024) / (m.length + 1))) });

  const variants: Record<string, { expected: string; reply: () => Reply }> = {
    html: {
      expected: 'invalid_response',
      reply: () => ({
        status: 200,
        headers: { 'content-type': 'text/html; charset=utf-8' },
        body: `<!doctype html><html><head><title>${M.html}</title></head><body><h1>Internal portal ${M.html}</h1><p>token=${M.html}</p></body></html>`,
      }),
    },
    json: {
      expected: 'invalid_response',
      reply: () => json({ ok: false, error: `${M.json} with spaces and <b>tags</b> <script>alert(1)</script>` }),
    },
    big: {
      expected: 'response_too_large',
      reply: () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: bigBody(M.big) }),
    },
    chunked: {
      expected: 'response_too_large',
      reply: () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: bigBody(M.chunked), chunked: true }),
    },
    longcode: { expected: 'invalid_response', reply: () => json({ ok: false, error: M.longcode }) },
    // a well-formed code is kept as it is (the control case: codes are not thrown away wholesale)
    goodcode: { expected: 'standin_refuses_this', reply: () => json({ ok: false, error: 'standin_refuses_this' }) },
    // Slack's own fields for free text, which the SDK logs: warnings and [ERROR]/[WARN] messages
    meta: {
      expected: 'invalid_response',
      reply: () =>
        json({
          ok: false,
          error: `${M.meta} not a code`,
          warning: `${M.meta}-warning-field`,
          response_metadata: { warnings: [`${M.meta}-warnings`], messages: [`[ERROR] ${M.meta}-error-message`, `[WARN] ${M.meta}-warn-message`] },
        }),
    },
  };

  beforeAll(async () => {
    standIn = await startSlackStandIn(
      relay.spareApiPort,
      Object.fromEntries(Object.entries(variants).map(([name, v]) => [name, () => v.reply()])),
    );
  });
  afterAll(() => standIn?.close());

  /** Each variant: a subscription on it, a manual sync, an alert; then every surface is searched for its marker. */
  async function probe(names: string[]) {
    const intake = apiAs(relay, relay.intakeKey);
    const answers: Record<string, string[]> = {};
    const outcomes: Record<string, unknown> = {};
    const subs: Record<string, string> = {};
    const alertIds: string[] = [];
    for (const name of names) {
      const sub = await relay.createSubscription({ apiUrl: standIn.apiUrl(name), recipient: 'U0ALICE' });
      subs[name] = sub.id;
      const sync = await relay.api('POST', `/api/v1/subscriptions/${sub.id}/sync`);
      const sent = await intake('POST', '/api/v1/alerts', { subscription: sub.id, title: `hostile ${name}`, text: 'probe' });
      expect(sent.status, sent.text).toBe(202);
      alertIds.push(sent.body.id);
      const record = await relay.waitForAlert(sent.body.id, ['delivered', 'failed'], 15_000);
      const mine = await intake('GET', `/api/v1/alerts/${sent.body.id}`);
      answers[name] = [sync.text, JSON.stringify(record), mine.text];
      outcomes[name] = {
        sync: [sync.status, sync.body?.lastSync?.status, sync.body?.lastSync?.error?.code],
        record: [record.status, record.error?.code],
      };
      expect(standIn.callsTo(name).length, `the ${name} stand-in was called`).toBeGreaterThan(0);
    }
    expect(outcomes).toEqual(Object.fromEntries(names.map((name) => [name, { sync: [202, 'failed', variants[name]!.expected], record: ['failed', variants[name]!.expected] }])));

    // every place a server's words could come back out
    const auth = { authorization: basicAuth(relay.env.ADMIN_PASSWORD!) };
    const text = async (path: string, headers: Record<string, string>) => {
      const res = await fetch(`${relay.url}${path}`, { headers });
      return `${res.status} ${await res.text()}`;
    };
    const surfaces: Record<string, string> = {
      'API answers (sync, records)': Object.values(answers).flat().join('\n'),
      'GET /api/v1/subscriptions': (await relay.api('GET', '/api/v1/subscriptions')).text,
      'GET /api/v1/subscriptions/:id': (await Promise.all(Object.values(subs).map(async (id) => (await relay.api('GET', `/api/v1/subscriptions/${id}`)).text))).join('\n'),
      'GET /api/v1/alerts (admin)': (await relay.api('GET', '/api/v1/alerts?limit=1000')).text,
      'GET /api/v1/alerts (intake)': (await intake('GET', '/api/v1/alerts?limit=1000')).text,
      '/metrics': await text('/metrics', { authorization: `Bearer ${relay.apiKey}` }),
      'Bull Board API (failed jobs)': [
        await text('/admin/queues/api/queues?activeQueue=alerts-ongoing&status=failed', auth),
        ...(await Promise.all(alertIds.map((id) => text(`/admin/queues/api/queues/alerts-ongoing/${id}`, auth)))),
      ].join('\n'),
      'settings pages': (await Promise.all(Object.values(subs).map((id) => text(`/subscriptions/${id}`, auth)))).join('\n'),
      [`Redis keys ${relay.queuePrefix}:*`]: await redis.dump(),
      'web and worker stdout/stderr': relay.dump(),
    };
    expect(surfaces['/metrics']).toMatch(/^200 /);
    expect(surfaces[`Redis keys ${relay.queuePrefix}:*`]).toContain(alertIds[0]!);

    const leaks: string[] = [];
    for (const [where, content] of Object.entries(surfaces)) {
      for (const [variant, m] of Object.entries(M).filter(([variant]) => names.includes(variant))) {
        const lines = content.split('\n').filter((line) => line.includes(m));
        for (const line of lines.slice(0, 6)) {
          const at = line.indexOf(m);
          leaks.push(`${variant} marker in ${where}: …${line.slice(Math.max(0, at - 120), at + 100)}…`);
        }
      }
    }
    return leaks;
  }

  it('(HTML, JSON with a hostile error, 2 MB bodies, a 65-character code) gets invalid_response / response_too_large; its words appear in no answer, metric, Redis key, Bull Board, page or log', async () => {
    const leaks = await probe(['html', 'json', 'big', 'chunked', 'longcode', 'goodcode']);
    expect(leaks, 'remote text that came back out').toEqual([]);
  });

  it('(Slack-style warnings and response_metadata messages beside an error) has none of that text in the logs either', async () => {
    const leaks = await probe(['meta']);
    expect(leaks, 'remote text that came back out').toEqual([]);
  });
});
