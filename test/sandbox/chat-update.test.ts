import { describe, expect, it } from 'vitest';
import { platformError, rejectionOf, startSandbox, webClient } from './helpers.js';

const BLOCKS = [{ type: 'section', text: { type: 'mrkdwn', text: '*disk* 95%' } }];

describe('chat.update', () => {
  it('edits a message in place: same ts, edited marker, earlier versions kept', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    const posted = await client.chat.postMessage({ channel: 'U0ALICE', text: 'disk 95%', blocks: BLOCKS });
    const ts = posted.ts ?? '';
    const newBlocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*disk* 60%, resolved' } }];

    const updated = await client.chat.update({ channel: 'D0ALICE', ts, text: 'disk 60%', blocks: newBlocks });
    expect(updated).toMatchObject({
      ok: true,
      channel: 'D0ALICE',
      ts,
      text: 'disk 60%',
      message: { type: 'message', text: 'disk 60%', user: 'U0BOT', bot_id: 'B0BOT', blocks: newBlocks, edited: { user: 'U0BOT' } },
    });
    const editedTs = updated.message?.edited?.ts ?? '';
    expect(Number(editedTs)).toBeGreaterThan(Number(ts));

    const [stored] = sandbox.messages();
    expect(stored).toMatchObject({ ts, text: 'disk 60%', blocks: newBlocks, edited: { ts: editedTs } });
    expect(stored?.history).toEqual([{ text: 'disk 95%', blocks: BLOCKS, at: stored?.at }]); // the version posted first
    expect(sandbox.messages()).toHaveLength(1); // an edit is no new message

    const history = await client.conversations.history({ channel: 'D0ALICE' });
    expect(history.messages?.[0]).toMatchObject({ ts, text: 'disk 60%', edited: { user: 'U0BOT', ts: editedTs } });
  });

  it('keeps blocks and metadata that the update leaves out, and removes them when given empty', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    const metadata = { event_type: 'alert_posted', event_payload: { id: 'a-1' } };
    const { ts = '' } = await client.chat.postMessage({ channel: 'U0BOB', text: 'v1', blocks: BLOCKS, metadata });

    // Only the fallback text changes: the member still sees the old blocks, as on Slack.
    await client.chat.update({ channel: 'D0BOB', ts, text: 'v2' });
    expect(sandbox.message('D0BOB', ts)).toMatchObject({ text: 'v2', blocks: BLOCKS, metadata });

    const resolved = { event_type: 'alert_resolved', event_payload: { id: 'a-1' } };
    const third = await client.chat.update({ channel: 'D0BOB', ts, text: 'v3', blocks: [], metadata: resolved });
    expect(third.message?.metadata).toEqual(resolved);
    expect(sandbox.message('D0BOB', ts)).toMatchObject({ text: 'v3', blocks: [], metadata: resolved });

    await client.apiCall('chat.update', { channel: 'D0BOB', ts, text: 'v4', metadata: {} });
    const stored = sandbox.message('D0BOB', ts);
    expect(stored?.metadata).toBeNull();
    expect(stored?.history.map((version) => version.text)).toEqual(['v1', 'v2', 'v3']);
  });

  it('rejects bad updates with Slack’s error codes and changes nothing', async () => {
    const sandbox = await startSandbox({ oauth: { clientId: '1.2', clientSecret: 's' } });
    const client = webClient(sandbox);
    const { ts = '' } = await client.chat.postMessage({ channel: 'U0BOB', text: 'original' });

    expect(await platformError(client.chat.update({ channel: 'D0BOB', ts: '1.000001', text: 'x' }))).toBe('message_not_found');
    // The docs ask for the DM id; a user id does not find the message.
    expect(await platformError(client.chat.update({ channel: 'U0BOB', ts, text: 'x' }))).toBe('message_not_found');
    expect(await platformError(client.chat.update({ channel: 'C0NONE', ts, text: 'x' }))).toBe('channel_not_found');
    expect(await platformError(client.chat.update({ channel: 'D0BOB', ts, text: 'x'.repeat(40_001) }))).toBe('msg_too_long');
    expect(await platformError(client.apiCall('chat.update', { channel: 'D0BOB', ts }))).toBe('no_text');
    expect(await platformError(client.apiCall('chat.update', { channel: 'D0BOB', ts, text: 'x', blocks: '{no' }))).toBe('invalid_blocks');
    expect(await platformError(client.apiCall('chat.update', { channel: 'D0BOB', ts, text: 'x', metadata: '{no' }))).toBe(
      'invalid_metadata_format',
    );

    // A message posted by the app's installation in another workspace is not this token's to edit.
    const installed = await webClient(sandbox, '').oauth.v2.access({
      client_id: '1.2',
      client_secret: 's',
      code: sandbox.createAuthCode({ teamId: 'T0OTHER' }),
    });
    const other = await webClient(sandbox, installed.access_token).chat.postMessage({ channel: 'U0BOB', text: 'from T0OTHER' });
    expect(other.message?.team).toBe('T0OTHER');
    expect(await platformError(client.chat.update({ channel: 'D0BOB', ts: other.ts ?? '', text: 'x' }))).toBe('cant_update_message');
    await expect(webClient(sandbox, installed.access_token).chat.update({ channel: 'D0BOB', ts: other.ts ?? '', text: 'ok' })).resolves.toMatchObject({
      ok: true,
    });

    expect(sandbox.message('D0BOB', ts)).toMatchObject({ text: 'original', edited: null, history: [] });
  });

  it('edits thread replies, and a parent’s answer carries its thread summary', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    const parent = await client.chat.postMessage({ channel: 'U0BOB', text: 'parent' });
    const reply = await client.chat.postMessage({ channel: 'D0BOB', thread_ts: parent.ts, text: 'reply' });
    await client.chat.update({ channel: 'D0BOB', ts: reply.ts ?? '', text: 'reply, edited' });
    expect(sandbox.messages({ threadTs: parent.ts })).toMatchObject([{ text: 'reply, edited', threadTs: parent.ts }]);
    const updatedParent = await client.chat.update({ channel: 'D0BOB', ts: parent.ts ?? '', text: 'parent, edited' });
    expect(updatedParent.message).toMatchObject({ thread_ts: parent.ts, reply_count: 1, latest_reply: reply.ts });
  });

  it('waitForEdit resolves once the message was edited, and waitFor on any condition', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    const { ts = '' } = await client.chat.postMessage({ channel: 'U0ALICE', text: 'v1' });
    const firstEdit = sandbox.waitForEdit('D0ALICE', ts, { timeoutMs: 2000 });
    const secondEdit = sandbox.waitForEdit('D0ALICE', ts, { edits: 2, timeoutMs: 2000 });
    const twoUpdates = sandbox.waitFor(() => sandbox.callsTo('chat.update').length >= 2 && 'two updates', { timeoutMs: 2000 });
    await client.chat.update({ channel: 'D0ALICE', ts, text: 'v2' });
    expect((await firstEdit).text).toBe('v2');
    await client.chat.update({ channel: 'D0ALICE', ts, text: 'v3' });
    expect((await secondEdit).history.map((version) => version.text)).toEqual(['v1', 'v2']);
    expect(await twoUpdates).toBe('two updates');

    await expect(sandbox.waitForEdit('D0ALICE', ts, { edits: 3, timeoutMs: 50 })).rejects.toThrow(
      `waitForEdit: expected 3 edit(s) of ${ts} in D0ALICE, saw 2 edit(s) within 50 ms`,
    );
    await expect(sandbox.waitFor(() => false, { timeoutMs: 20, description: 'never' })).rejects.toThrow('waitFor: never did not hold');
    await expect(sandbox.waitFor(() => { throw new Error('probe broke'); })).rejects.toThrow('probe broke');
    const pending = sandbox.waitForEdit('D0ALICE', '1.000001', { timeoutMs: 5000 });
    await sandbox.close();
    await expect(pending).rejects.toThrow('waitForEdit: the sandbox was closed');
  });
});

describe('per-channel rate limit (channelPostLimit)', () => {
  it('counts thread replies and updates together with posts', async () => {
    const sandbox = await startSandbox({ channelPostLimit: { perSecond: 3 } });
    const client = webClient(sandbox);
    const parent = await client.chat.postMessage({ channel: 'U0BOB', text: 'parent' });
    await client.chat.postMessage({ channel: 'D0BOB', thread_ts: parent.ts, text: 'reply' });
    await client.chat.update({ channel: 'D0BOB', ts: parent.ts ?? '', text: 'edited' });

    const update = await rejectionOf(client.chat.update({ channel: 'D0BOB', ts: parent.ts ?? '', text: 'too soon' }));
    expect(update.code).toBe('slack_webapi_rate_limited_error');
    expect(update.retryAfter).toBeGreaterThanOrEqual(1);
    const reply = await rejectionOf(client.chat.postMessage({ channel: 'D0BOB', thread_ts: parent.ts, text: 'too soon' }));
    expect(reply.code).toBe('slack_webapi_rate_limited_error');
    // Refused calls change nothing, and other channels keep their own budget.
    expect(sandbox.message('D0BOB', parent.ts ?? '')?.text).toBe('edited');
    expect(sandbox.messages({ threadTs: parent.ts })).toHaveLength(1);
    await expect(client.chat.postMessage({ channel: 'U0ALICE', text: 'elsewhere' })).resolves.toMatchObject({ ok: true });
  });

  it('does not count updates that fail validation', async () => {
    const sandbox = await startSandbox({ channelPostLimit: { perSecond: 1 } });
    const client = webClient(sandbox);
    await client.chat.postMessage({ channel: 'U0BOB', text: 'only post' });
    expect(await platformError(client.chat.update({ channel: 'D0BOB', ts: '1.000001', text: 'x' }))).toBe('message_not_found');
    const error = await rejectionOf(client.chat.postMessage({ channel: 'U0BOB', text: 'second' }));
    expect(error.code).toBe('slack_webapi_rate_limited_error');
  });
});
