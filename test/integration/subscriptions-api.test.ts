import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOT_TOKEN, startTestRelay, type TestRelay } from '../helpers/test-relay.js';

let relay: TestRelay;
beforeAll(async () => {
  // two more allowed origins, for the apiUrl rules (which URLs may be saved at all is test/security's)
  relay = await startTestRelay({ worker: false, env: { ALLOWED_API_URLS: 'https://evil.example.com,https://other.example.com' } });
});
afterAll(() => relay.close());

const valid = () => ({
  name: `Ops ${Math.random().toString(36).slice(2, 8)}`,
  version: 'v1.0',
  apiToken: BOT_TOKEN,
  clientId: '1234.5678',
  recipient: 'alice@example.com',
});

describe('subscriptions API', () => {
  it('creates with defaults, masks the token and does not contact Slack', async () => {
    const before = relay.sandbox.calls.length;
    const res = await relay.api('POST', '/api/v1/subscriptions', valid());
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^sub_[0-9A-Z]{26}$/),
      version: 'v1.0',
      apiUrl: relay.sandbox.apiUrl,
      apiToken: 'xoxb-…qrst',
      clientId: '1234.5678',
      recipient: 'alice@example.com',
      throttle: { initial: { limit: 5, seconds: 60, concurrency: 5 }, ongoing: { limit: 500, seconds: 60, concurrency: 500 } },
      authorization: { method: 'bot_token', status: 'Bot token', team: null },
      lastSync: null,
    });
    expect(res.text).not.toContain(BOT_TOKEN);
    expect(relay.sandbox.calls.length).toBe(before);
  });

  it('accepts the OAuth placeholder and reports "Not authorized"', async () => {
    const res = await relay.api('POST', '/api/v1/subscriptions', { ...valid(), apiToken: ' - ', clientId: '-' });
    expect(res.status).toBe(201);
    expect(res.body.apiToken).toBe('-');
    expect(res.body.authorization).toEqual({ method: 'none', status: 'Not authorized', team: null });
  });

  it('refuses blank required fields with issues, and stores nothing', async () => {
    const count = (await relay.api('GET', '/api/v1/subscriptions')).body.subscriptions.length;
    for (const body of [
      { ...valid(), apiToken: '   ' },
      { ...valid(), clientId: '' },
      { ...valid(), name: '' },
      { ...valid(), version: undefined },
      { ...valid(), apiUrl: 'ftp://example.com' },
      { ...valid(), throttle: { initial: { limit: 0 } } },
      { ...valid(), surprise: true },
    ]) {
      const res = await relay.api('POST', '/api/v1/subscriptions', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.body.issues.length).toBeGreaterThan(0);
    }
    expect((await relay.api('GET', '/api/v1/subscriptions')).body.subscriptions.length).toBe(count);
  });

  it('keeps names unique ignoring case (409 name_taken)', async () => {
    const first = valid();
    expect((await relay.api('POST', '/api/v1/subscriptions', first)).status).toBe(201);
    const dup = await relay.api('POST', '/api/v1/subscriptions', { ...valid(), name: first.name.toUpperCase() });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toBe('name_taken');
  });

  it('updates: the masked token keeps the stored one; apiUrl needs a new token', async () => {
    const created = await relay.createSubscription();
    const keep = await relay.api('PATCH', `/api/v1/subscriptions/${created.id}`, { apiToken: created.apiToken, version: 'v2.0' });
    expect(keep.status).toBe(200);
    expect(keep.body).toMatchObject({ version: 'v2.0', apiToken: created.apiToken });

    const moved = await relay.api('PATCH', `/api/v1/subscriptions/${created.id}`, { apiUrl: 'https://evil.example.com/api/' });
    expect(moved.status).toBe(400);
    expect(moved.body.error).toBe('token_required');
    const masked = await relay.api('PATCH', `/api/v1/subscriptions/${created.id}`, {
      apiUrl: 'https://evil.example.com/api/',
      apiToken: created.apiToken,
    });
    expect(masked.body.error).toBe('token_required');
    expect((await relay.api('GET', `/api/v1/subscriptions/${created.id}`)).body.apiUrl).toBe(relay.sandbox.apiUrl);

    const withToken = await relay.api('PATCH', `/api/v1/subscriptions/${created.id}`, {
      apiUrl: 'https://other.example.com/api',
      apiToken: 'xoxb-9999999999-newnewnewnew',
    });
    expect(withToken.status).toBe(200);
    expect(withToken.body).toMatchObject({ apiUrl: 'https://other.example.com/api/', apiToken: 'xoxb-…wnew' });
  });

  it('merges throttle changes over the stored values', async () => {
    const created = await relay.createSubscription();
    const res = await relay.api('PATCH', `/api/v1/subscriptions/${created.id}`, { throttle: { ongoing: { limit: 10 } } });
    expect(res.body.throttle.ongoing).toEqual({ limit: 10, seconds: 60, concurrency: 500 });
    expect(res.body.throttle.initial).toEqual({ limit: 5, seconds: 60, concurrency: 5 });
  });

  it('lists, reads, deletes (204) and then answers 404', async () => {
    const created = await relay.createSubscription();
    const list = await relay.api('GET', '/api/v1/subscriptions');
    expect(list.body.subscriptions.map((s: { id: string }) => s.id)).toContain(created.id);
    expect((await relay.api('DELETE', `/api/v1/subscriptions/${created.id}`)).status).toBe(204);
    const gone = await relay.api('GET', `/api/v1/subscriptions/${created.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error).toBe('not_found');
    expect((await relay.api('DELETE', `/api/v1/subscriptions/${created.id}`)).status).toBe(404);
  });

  it('answers 501 initialization_not_supported', async () => {
    const created = await relay.createSubscription();
    const res = await relay.api('POST', `/api/v1/subscriptions/${created.id}/initialize`);
    expect(res.status).toBe(501);
    expect(res.body.error).toBe('initialization_not_supported');
  });

  it('needs an API key', async () => {
    const res = await fetch(`${relay.web.url}/api/v1/subscriptions`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('unauthorized');
    const wrong = await relay.api('GET', '/api/v1/subscriptions', undefined, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
  });

  it('refuses a body over 64 KB with 413', async () => {
    const res = await relay.api('POST', '/api/v1/subscriptions', { ...valid(), version: 'x'.repeat(70_000) });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('payload_too_large');
  });
});
