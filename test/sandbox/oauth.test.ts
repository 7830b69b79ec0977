import { afterEach, describe, expect, it, vi } from 'vitest';
import { platformError, startSandbox, webClient } from './helpers.js';

const CLIENT = { clientId: '111.222', clientSecret: 'shh-secret' };
const REDIRECT = 'http://localhost:4000/slack/oauth/callback';

afterEach(() => {
  vi.useRealTimers();
});

describe('oauth.v2.access', () => {
  it('exchanges a code once for a working bot token', async () => {
    const sandbox = await startSandbox({ oauth: CLIENT });
    const anonymous = webClient(sandbox, '');
    const code = sandbox.createAuthCode();
    const exchange = { client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, code };

    const result = await anonymous.oauth.v2.access(exchange);
    expect(result).toMatchObject({
      ok: true,
      app_id: 'A0SANDBOX',
      authed_user: { id: 'U0ALICE' },
      scope: 'chat:write,im:write,im:history,users:read,users:read.email',
      token_type: 'bot',
      bot_user_id: 'U0BOT',
      team: { id: 'T0SANDBOX', name: 'Sandbox' },
      enterprise: null,
      is_enterprise_install: false,
    });
    expect(result.access_token).toMatch(/^xoxb-sandbox-/);
    expect(result.refresh_token).toBeUndefined();
    await expect(webClient(sandbox, result.access_token).auth.test()).resolves.toMatchObject({ ok: true });

    expect(await platformError(anonymous.oauth.v2.access(exchange))).toBe('invalid_code');
    expect(await platformError(anonymous.oauth.v2.access({ ...exchange, code: 'made-up' }))).toBe('invalid_code');
    expect(sandbox.callsTo('oauth.v2.access').map((call) => call.status)).toEqual([200, 200, 200]);
  });

  it('checks the client credentials, from form fields or HTTP basic auth', async () => {
    const sandbox = await startSandbox({ oauth: CLIENT });
    const anonymous = webClient(sandbox, '');
    const code = sandbox.createAuthCode({ teamId: 'T0OTHER' });
    expect(await platformError(anonymous.oauth.v2.access({ client_id: 'wrong', client_secret: CLIENT.clientSecret, code }))).toBe(
      'invalid_client_id',
    );
    expect(await platformError(anonymous.oauth.v2.access({ client_id: CLIENT.clientId, client_secret: 'wrong', code }))).toBe(
      'bad_client_secret',
    );

    // The code survived the failed attempts; now redeem it with basic auth.
    const response = await fetch(`${sandbox.apiUrl}oauth.v2.access`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ code }),
    });
    const body = (await response.json()) as { ok: boolean; team: { id: string }; access_token: string };
    expect(body).toMatchObject({ ok: true, team: { id: 'T0OTHER' } });
    expect(await webClient(sandbox, body.access_token).auth.test()).toMatchObject({ team_id: 'T0OTHER' });
  });

  it('requires the redirect_uri of the authorization, when one is sent', async () => {
    const sandbox = await startSandbox({ oauth: CLIENT });
    const anonymous = webClient(sandbox, '');
    const code = sandbox.createAuthCode({ redirectUri: REDIRECT });
    const exchange = { client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, code };
    expect(await platformError(anonymous.oauth.v2.access({ ...exchange, redirect_uri: 'http://evil.example/cb' }))).toBe(
      'bad_redirect_uri',
    );
    await expect(anonymous.oauth.v2.access({ ...exchange, redirect_uri: REDIRECT })).resolves.toMatchObject({ ok: true });
  });

  it('rotates tokens: refresh tokens are single use and access tokens expire', async () => {
    const sandbox = await startSandbox({ oauth: { ...CLIENT, rotateTokens: true, tokenTtlSeconds: 60 } });
    const anonymous = webClient(sandbox, '');
    const credentials = { client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret };

    const installed = await anonymous.oauth.v2.access({ ...credentials, code: sandbox.createAuthCode() });
    expect(installed.access_token).toMatch(/^xoxe\.xoxb-/);
    expect(installed.refresh_token).toMatch(/^xoxe-1-/);
    expect(installed.expires_in).toBe(60);

    const refresh = { ...credentials, grant_type: 'refresh_token' as const, refresh_token: installed.refresh_token };
    const refreshed = await anonymous.oauth.v2.access(refresh);
    expect(refreshed.access_token).toMatch(/^xoxe\.xoxb-/);
    expect(refreshed.access_token).not.toBe(installed.access_token);
    expect(refreshed.refresh_token).not.toBe(installed.refresh_token);
    expect(await platformError(anonymous.oauth.v2.access(refresh))).toBe('invalid_refresh_token');
    expect(sandbox.callsTo('oauth.v2.access')).toHaveLength(3);

    await expect(webClient(sandbox, refreshed.access_token).auth.test()).resolves.toMatchObject({ ok: true });
    // Only Date is faked, so sockets and timers keep working while the tokens age.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 61_000);
    expect(await platformError(webClient(sandbox, installed.access_token).auth.test())).toBe('token_expired');
    expect(await platformError(webClient(sandbox, refreshed.access_token).auth.test())).toBe('token_expired');
    const again = await anonymous.oauth.v2.access({ ...refresh, refresh_token: refreshed.refresh_token });
    await expect(webClient(sandbox, again.access_token).auth.test()).resolves.toMatchObject({ ok: true });
  });
});

describe('OAuth authorize page', () => {
  const authorizeQuery = new URLSearchParams({
    client_id: CLIENT.clientId,
    scope: 'chat:write,im:write,users:read.email',
    redirect_uri: REDIRECT,
    state: 'st<ate>&1',
  });

  async function decide(sandboxUrl: string, decision: 'allow' | 'deny', fields = authorizeQuery): Promise<URL> {
    const response = await fetch(`${sandboxUrl}/oauth/v2/authorize`, {
      method: 'POST',
      body: new URLSearchParams([...fields, ['decision', decision]]),
      redirect: 'manual',
    });
    expect(response.status).toBe(302);
    return new URL(response.headers.get('location') ?? '');
  }

  it('shows the requested scopes, escaped', async () => {
    const sandbox = await startSandbox({ oauth: CLIENT });
    const response = await fetch(`${sandbox.url}/oauth/v2/authorize?${authorizeQuery}&user_scope=%3Cscript%3E`);
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).toContain('Sandbox workspace wants to install the app');
    expect(page).toContain('<code>users:read.email</code>');
    expect(page).toContain('value="st&lt;ate&gt;&amp;1"');
    expect(page).not.toContain('<script>');
    expect(page).toMatch(/<button[^>]*value="allow"[^>]*>Allow<\/button>/);
    expect(page).toMatch(/<button[^>]*value="deny"[^>]*>Deny<\/button>/);
  });

  it('Allow redirects with a code the app can exchange once', async () => {
    const sandbox = await startSandbox({ oauth: CLIENT });
    const location = await decide(sandbox.url, 'allow');
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get('state')).toBe('st<ate>&1');
    const code = location.searchParams.get('code') ?? '';
    expect(code).not.toBe('');

    const anonymous = webClient(sandbox, '');
    const exchange = { client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret, code, redirect_uri: REDIRECT };
    expect(await platformError(anonymous.oauth.v2.access({ ...exchange, redirect_uri: `${REDIRECT}/other` }))).toBe('bad_redirect_uri');
    await expect(anonymous.oauth.v2.access(exchange)).resolves.toMatchObject({ ok: true });
    expect(await platformError(anonymous.oauth.v2.access(exchange))).toBe('invalid_code');
  });

  it('Deny redirects with error=access_denied', async () => {
    const sandbox = await startSandbox({ oauth: CLIENT });
    const location = await decide(sandbox.url, 'deny');
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('st<ate>&1');
    expect(location.searchParams.has('code')).toBe(false);
  });

  it('refuses unknown clients and missing or non-http redirect URIs', async () => {
    const sandbox = await startSandbox({ oauth: CLIENT });
    const unknown = new URLSearchParams(authorizeQuery);
    unknown.set('client_id', '<b>999</b>');
    const response = await fetch(`${sandbox.url}/oauth/v2/authorize?${unknown}`);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('&lt;b&gt;999&lt;/b&gt;');

    const javascript = new URLSearchParams(authorizeQuery);
    javascript.set('redirect_uri', 'javascript:alert(1)');
    expect((await fetch(`${sandbox.url}/oauth/v2/authorize?${javascript}`)).status).toBe(400);
    const posted = await fetch(`${sandbox.url}/oauth/v2/authorize`, {
      method: 'POST',
      body: new URLSearchParams([...javascript, ['decision', 'allow']]),
      redirect: 'manual',
    });
    expect(posted.status).toBe(400);
  });
});
