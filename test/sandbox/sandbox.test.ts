import { describe, expect, it, vi } from 'vitest';
import { platformError, rejectionOf, startSandbox, webClient } from './helpers.js';

describe('Slack sandbox Web API (driven by the real WebClient)', () => {
  it('answers auth.test with the bot identity', async () => {
    const sandbox = await startSandbox();
    const result = await webClient(sandbox).auth.test();
    expect(result).toMatchObject({
      ok: true,
      url: 'https://sandbox.slack.com/',
      team: 'Sandbox',
      user: 'relay-bot',
      team_id: 'T0SANDBOX',
      user_id: 'U0BOT',
      bot_id: 'B0BOT',
      is_enterprise_install: false,
    });
  });

  it('finds users by e-mail and reports misses as users_not_found', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    const hit = await client.users.lookupByEmail({ email: 'Bob@Example.com' });
    expect(hit.user).toEqual({
      id: 'U0BOB',
      team_id: 'T0SANDBOX',
      name: 'bob',
      deleted: false,
      real_name: 'Bob Baker',
      is_bot: false,
      profile: { email: 'bob@example.com', display_name: 'bobby', real_name: 'Bob Baker' },
    });
    expect(await platformError(client.users.lookupByEmail({ email: 'nobody@example.com' }))).toBe('users_not_found');
  });

  it('answers users.info and user_not_found', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    expect((await client.users.info({ user: 'W0CAROL' })).user?.profile?.display_name).toBe('carol');
    expect(await platformError(client.users.info({ user: 'U0NOBODY' }))).toBe('user_not_found');
  });

  it('paginates users.list with cursors', async () => {
    const sandbox = await startSandbox();
    sandbox.addUser({ id: 'U0DAVE', name: 'dave' });
    sandbox.addUser({ id: 'U0ERIN', name: 'erin', deleted: true });
    const client = webClient(sandbox);

    const first = await client.users.list({ limit: 2 });
    expect(first.members?.map((m) => m.id)).toEqual(['U0ALICE', 'U0BOB']);
    const cursor = first.response_metadata?.next_cursor;
    expect(cursor).toBeTruthy();
    const second = await client.users.list({ limit: 2, cursor });
    expect(second.members?.map((m) => m.id)).toEqual(['W0CAROL', 'U0DAVE']);
    const third = await client.users.list({ limit: 2, cursor: second.response_metadata?.next_cursor });
    expect(third.members?.map((m) => [m.id, m.deleted])).toEqual([['U0ERIN', true]]);
    expect(third.response_metadata?.next_cursor).toBe('');

    const all: string[] = [];
    for await (const page of client.paginate('users.list', { limit: 3 })) {
      const { members = [] } = page as { members?: { id: string }[] };
      all.push(...members.map((m) => m.id));
    }
    expect(all).toEqual(['U0ALICE', 'U0BOB', 'W0CAROL', 'U0DAVE', 'U0ERIN']);
    expect(await platformError(client.users.list({ cursor: 'bm9wZQ==' }))).toBe('invalid_cursor');
  });

  it('opens a DM and stores posted messages with their blocks', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    const opened = await client.conversations.open({ users: 'U0ALICE' });
    expect(opened.channel?.id).toBe('D0ALICE');
    expect((await client.conversations.open({ users: 'U0ALICE' })).channel?.id).toBe('D0ALICE');

    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*disk full* on db-1' } }];
    const posted = await client.chat.postMessage({ channel: 'D0ALICE', text: 'disk full on db-1', blocks });
    expect(posted).toMatchObject({
      ok: true,
      channel: 'D0ALICE',
      message: { type: 'message', text: 'disk full on db-1', user: 'U0BOT', blocks },
    });
    expect(posted.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(posted.message?.ts).toBe(posted.ts);

    // A user id works as channel too; it lands in that user's DM.
    const second = await client.chat.postMessage({ channel: 'U0ALICE', text: 'second' });
    expect(second.channel).toBe('D0ALICE');
    expect(Number(second.ts)).toBeGreaterThan(Number(posted.ts));

    const stored = sandbox.messages({ user: 'U0ALICE' });
    expect(stored).toHaveLength(2);
    expect(stored[0]).toMatchObject({ channel: 'D0ALICE', user: 'U0ALICE', text: 'disk full on db-1', blocks, ts: posted.ts, token: 'xoxb-test-token' });
    expect(stored[1]?.blocks).toBeNull();
    expect(sandbox.messages({ user: 'U0BOB' })).toEqual([]);
  });

  it('takes a post of legacy attachments alone (Alertmanager’s), as the text they show', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    // Alertmanager's slack_configs post JSON: channel, username and attachments, no text
    const attachments = [{ color: 'danger', title: '[FIRING:1] DiskFull', text: 'db-1 is at 97%', fallback: 'DiskFull' }];
    const posted = await client.apiCall('chat.postMessage', { channel: 'U0ALICE', username: 'alertmanager', attachments });
    expect(posted.ok).toBe(true);
    await client.apiCall('chat.postMessage', { channel: 'U0ALICE', attachments: JSON.stringify([{ fallback: 'only a fallback' }]) });
    expect(sandbox.messages({ user: 'U0ALICE' }).map((m) => m.text)).toEqual(['[FIRING:1] DiskFull\ndb-1 is at 97%', 'only a fallback']);
  });

  it('rejects bad conversations.open and chat.postMessage calls like Slack', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    expect(await platformError(client.conversations.open({ users: 'U0NOBODY' }))).toBe('user_not_found');
    expect(await platformError(client.apiCall('conversations.open', {}))).toBe('users_list_not_supplied');
    expect(await platformError(client.chat.postMessage({ channel: 'C0GENERAL', text: 'hi' }))).toBe('channel_not_found');
    expect(await platformError(client.chat.postMessage({ channel: 'D0BOB', text: 'not opened yet' }))).toBe('channel_not_found');
    expect(await platformError(client.apiCall('chat.postMessage', { channel: 'U0BOB' }))).toBe('no_text');
    expect(await platformError(client.apiCall('chat.postMessage', { channel: 'U0BOB', attachments: [{ color: 'danger' }] }))).toBe('no_text');
    expect(await platformError(client.apiCall('chat.postMessage', { channel: 'U0BOB', attachments: '[oops' }))).toBe('invalid_attachments');
    expect(await platformError(client.chat.postMessage({ channel: 'U0BOB', text: 'x'.repeat(40_001) }))).toBe('msg_too_long');
    expect(await platformError(client.apiCall('chat.postMessage', { channel: 'U0BOB', blocks: '{not json' }))).toBe('invalid_blocks');
    expect(await platformError(client.apiCall('chat.postMessage', { channel: 'U0BOB', blocks: [{ text: 'no type' }] }))).toBe(
      'invalid_blocks',
    );
    expect(await platformError(client.apiCall('no.such.method'))).toBe('unknown_method');
    expect(sandbox.messages()).toEqual([]);
    await client.chat.postMessage({ channel: 'U0BOB', text: 'x'.repeat(40_000) });
    expect(sandbox.messages()).toHaveLength(1);
  });

  it('records every call with its token, and accepts a token form field', async () => {
    const sandbox = await startSandbox();
    await webClient(sandbox, 'xoxb-first').auth.test();
    await webClient(sandbox, 'xoxp-second').users.info({ user: 'U0BOB' });
    await platformError(webClient(sandbox, '').auth.test()); // no token at all
    const response = await fetch(`${sandbox.apiUrl}auth.test`, {
      method: 'POST',
      body: new URLSearchParams({ token: 'xoxb-in-form' }),
    });
    expect(await response.json()).toMatchObject({ ok: true });

    expect(sandbox.calls.map((call) => [call.method, call.token, call.status])).toEqual([
      ['auth.test', 'xoxb-first', 200],
      ['users.info', 'xoxp-second', 200],
      ['auth.test', null, 200],
      ['auth.test', 'xoxb-in-form', 200],
    ]);
    expect(sandbox.callsTo('users.info')[0]).toMatchObject({ params: { user: 'U0BOB' }, response: { ok: true } });
    expect(sandbox.calls[2]?.response).toEqual({ ok: false, error: 'not_authed' });
  });

  it('rejects revoked and malformed tokens', async () => {
    const sandbox = await startSandbox();
    sandbox.revokeToken('xoxb-revoked');
    expect(await platformError(webClient(sandbox, 'xoxb-revoked').auth.test())).toBe('token_revoked');
    expect(await platformError(webClient(sandbox, 'not-a-token').auth.test())).toBe('invalid_auth');
    await expect(webClient(sandbox, 'xoxb-still-fine').auth.test()).resolves.toMatchObject({ ok: true });
  });

  it('waits for messages, and rejects when they do not come', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    const waiting = sandbox.waitForMessages(2, { user: 'U0BOB', timeoutMs: 2000 });
    await client.chat.postMessage({ channel: 'U0ALICE', text: 'not for bob' });
    await client.chat.postMessage({ channel: 'U0BOB', text: 'one' });
    await client.chat.postMessage({ channel: 'U0BOB', text: 'two' });
    expect((await waiting).map((m) => m.text)).toEqual(['one', 'two']);
    await expect(sandbox.waitForMessages(1, { user: 'W0CAROL', timeoutMs: 50 })).rejects.toThrow(/expected 1 message/);
  });

  it('reset forgets calls, messages and faults but keeps users and DMs', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    await client.chat.postMessage({ channel: 'U0BOB', text: 'before' });
    sandbox.inject({ kind: 'error', error: 'fatal_error' });
    sandbox.reset();
    expect(sandbox.calls).toEqual([]);
    expect(sandbox.messages()).toEqual([]);
    await expect(client.chat.postMessage({ channel: 'D0BOB', text: 'after' })).resolves.toMatchObject({ ok: true });
  });
});

describe('Slack sandbox faults and limits', () => {
  it('answers a ratelimit fault with 429 and Retry-After', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    sandbox.inject({ kind: 'ratelimit', retryAfter: 7, method: 'chat.postMessage' });

    await expect(client.auth.test()).resolves.toMatchObject({ ok: true }); // other methods are not affected
    const error = await rejectionOf(client.chat.postMessage({ channel: 'U0BOB', text: 'hi' }));
    expect(error.code).toBe('slack_webapi_rate_limited_error');
    expect(error.retryAfter).toBe(7);
    expect(sandbox.callsTo('chat.postMessage')[0]).toMatchObject({ status: 429, response: { ok: false, error: 'ratelimited' } });

    await expect(client.chat.postMessage({ channel: 'U0BOB', text: 'hi' })).resolves.toMatchObject({ ok: true }); // consumed
    expect(sandbox.messages()).toHaveLength(1);
  });

  it('answers an http fault with that status', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    sandbox.inject({ kind: 'http', status: 500, times: 2 });
    for (let i = 0; i < 2; i++) {
      const error = await rejectionOf(client.users.info({ user: 'U0BOB' }));
      expect(error.code).toBe('slack_webapi_http_error');
      expect(error.statusCode).toBe(500);
    }
    await expect(client.users.info({ user: 'U0BOB' })).resolves.toMatchObject({ ok: true });
    expect(sandbox.calls.map((call) => call.status)).toEqual([500, 500, 200]);
  });

  it('answers an error fault with ok:false, and clearFaults drops queued faults', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    sandbox.inject({ kind: 'error', error: 'fatal_error', method: 'chat.postMessage' });
    sandbox.inject({ kind: 'error', error: 'account_inactive' });
    expect(await platformError(client.auth.test())).toBe('account_inactive');
    expect(await platformError(client.chat.postMessage({ channel: 'U0BOB', text: 'x' }))).toBe('fatal_error');
    sandbox.inject({ kind: 'http', status: 503 });
    sandbox.clearFaults();
    await expect(client.auth.test()).resolves.toMatchObject({ ok: true });
  });

  it('delays answers: within the timeout they succeed, beyond it the client gives up and nothing is posted', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    sandbox.inject({ kind: 'delay', ms: 100, method: 'chat.postMessage' });
    await expect(client.chat.postMessage({ channel: 'U0BOB', text: 'slow' })).resolves.toMatchObject({ ok: true });

    sandbox.inject({ kind: 'delay', ms: 3000, method: 'chat.postMessage' });
    const started = Date.now();
    const error = await rejectionOf(client.chat.postMessage({ channel: 'U0BOB', text: 'too slow' }));
    expect(error.code).toBe('slack_webapi_request_error');
    expect(Date.now() - started).toBeLessThan(2900);
    await vi.waitFor(() => expect(sandbox.callsTo('chat.postMessage')[1]?.status).toBe(499));
    expect(sandbox.messages().map((m) => m.text)).toEqual(['slow']);
  });

  it('limits posts per channel per second when channelPostLimit is set', async () => {
    const sandbox = await startSandbox({ channelPostLimit: { perSecond: 2 } });
    const client = webClient(sandbox);
    await client.chat.postMessage({ channel: 'U0BOB', text: '1' });
    await client.chat.postMessage({ channel: 'D0BOB', text: '2' });
    const error = await rejectionOf(client.chat.postMessage({ channel: 'U0BOB', text: '3' }));
    expect(error.code).toBe('slack_webapi_rate_limited_error');
    expect(error.retryAfter).toBeGreaterThanOrEqual(1);
    // Other channels have their own budget.
    await expect(client.chat.postMessage({ channel: 'U0ALICE', text: 'a' })).resolves.toMatchObject({ ok: true });
    expect(sandbox.messages().map((m) => m.text)).toEqual(['1', '2', 'a']);
  });
});
