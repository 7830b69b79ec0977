import { describe, expect, it } from 'vitest';
import { platformError, startSandbox, webClient } from './helpers.js';

describe('thread replies (chat.postMessage thread_ts)', () => {
  it('files replies under their parent, which shows reply_count, latest_reply and reply_users', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    const parent = await client.chat.postMessage({ channel: 'U0ALICE', text: 'disk full' });
    const first = await client.chat.postMessage({ channel: 'D0ALICE', thread_ts: parent.ts, text: 'still full' });
    expect(first.message).toMatchObject({ thread_ts: parent.ts, parent_user_id: 'U0BOT', text: 'still full' });
    // A reply's ts is taken as its thread (the docs ask clients to pass the parent), and reply_broadcast is accepted.
    const second = await client.chat.postMessage({ channel: 'D0ALICE', thread_ts: first.ts ?? '', text: 'resolved', reply_broadcast: true });
    expect(second.message?.thread_ts).toBe(parent.ts);

    const history = await client.conversations.history({ channel: 'D0ALICE' });
    expect(history.messages).toHaveLength(1); // replies are not top-level messages
    expect(history.messages?.[0]).toMatchObject({
      ts: parent.ts,
      thread_ts: parent.ts,
      reply_count: 2,
      reply_users_count: 1,
      latest_reply: second.ts,
      reply_users: ['U0BOT'],
      is_locked: false,
    });

    expect(sandbox.messages().map((m) => [m.text, m.threadTs])).toEqual([
      ['disk full', null],
      ['still full', parent.ts],
      ['resolved', parent.ts],
    ]);
    expect(sandbox.messages({ threadTs: parent.ts }).map((m) => m.text)).toEqual(['still full', 'resolved']);
    expect(sandbox.messages({ topLevel: true }).map((m) => m.text)).toEqual(['disk full']);
    expect(sandbox.messages({ topLevel: false, user: 'U0ALICE' })).toHaveLength(2);
    expect(sandbox.message('D0ALICE', first.ts ?? '')?.text).toBe('still full');
  });

  it('accepts a thread_ts that names no message, as Slack does; the reply is in no visible thread', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    const orphan = await client.chat.postMessage({ channel: 'U0BOB', thread_ts: '1500000000.000100', text: 'lost' });
    expect(orphan.message?.thread_ts).toBe('1500000000.000100');
    expect(orphan.message?.parent_user_id).toBeUndefined();
    expect(sandbox.messages()[0]?.threadTs).toBe('1500000000.000100');
    expect((await client.conversations.history({ channel: 'D0BOB' })).messages).toEqual([]);
    expect(await platformError(client.conversations.replies({ channel: 'D0BOB', ts: '1500000000.000100' }))).toBe('thread_not_found');
  });

  it('waitForMessages waits for replies in a thread', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    const parent = await client.chat.postMessage({ channel: 'U0BOB', text: 'parent' });
    const waiting = sandbox.waitForMessages(2, { threadTs: parent.ts, timeoutMs: 2000 });
    await client.chat.postMessage({ channel: 'U0BOB', text: 'not in the thread' });
    await client.chat.postMessage({ channel: 'U0BOB', thread_ts: parent.ts, text: 'one' });
    await client.chat.postMessage({ channel: 'U0BOB', thread_ts: parent.ts, text: 'two' });
    expect((await waiting).map((m) => m.text)).toEqual(['one', 'two']);
    await expect(sandbox.waitForMessages(3, { threadTs: parent.ts, timeoutMs: 50 })).rejects.toThrow(
      `expected 3 message(s) in the thread of ${parent.ts}, got 2`,
    );
  });
});

describe('message metadata', () => {
  const metadata = { event_type: 'alert_posted', event_payload: { alert_id: 'a-1', attempt: 2 } };

  it('stores metadata, answers with it, and returns it from history only with include_all_metadata', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    const posted = await client.chat.postMessage({ channel: 'U0ALICE', text: 'with metadata', metadata });
    expect(posted.message?.metadata).toEqual(metadata);
    expect(sandbox.messages()[0]?.metadata).toEqual(metadata);

    expect((await client.conversations.history({ channel: 'D0ALICE' })).messages?.[0]?.metadata).toBeUndefined();
    const withMetadata = await client.conversations.history({ channel: 'D0ALICE', include_all_metadata: true });
    expect(withMetadata.messages?.[0]?.metadata).toEqual(metadata);
    const thread = await client.conversations.replies({ channel: 'D0ALICE', ts: posted.ts ?? '', include_all_metadata: true });
    expect(thread.messages?.[0]?.metadata).toEqual(metadata);
  });

  it('reads JSON-encoded metadata from form bodies and rejects malformed metadata like Slack', async () => {
    const sandbox = await startSandbox();
    const post = async (fields: Record<string, string>) => {
      const response = await fetch(`${sandbox.apiUrl}chat.postMessage`, {
        method: 'POST',
        headers: { authorization: 'Bearer xoxb-test-token' },
        body: new URLSearchParams({ channel: 'U0BOB', text: 'hi', ...fields }),
      });
      return (await response.json()) as Record<string, unknown>;
    };
    expect(await post({ metadata: JSON.stringify(metadata) })).toMatchObject({ ok: true, message: { metadata } });
    expect(await post({ metadata: '{not json' })).toEqual({ ok: false, error: 'invalid_metadata_format' });
    expect(await post({ metadata: '["a"]' })).toEqual({ ok: false, error: 'invalid_metadata_format' });
    expect(await post({ metadata: '{"event_type":"x"}' })).toEqual({ ok: false, error: 'invalid_metadata_schema' });
    expect(await post({ metadata: '{"event_type":"x","event_payload":"y"}' })).toEqual({ ok: false, error: 'invalid_metadata_schema' });
    // An event type with a period is not an error: Slack warns and drops the metadata.
    const dropped = await post({ metadata: '{"event_type":"alert.posted","event_payload":{}}' });
    expect(dropped).toMatchObject({ ok: true, warning: 'invalid_metadata_schema', response_metadata: { warnings: ['invalid_metadata_schema'] } });
    expect((dropped.message as Record<string, unknown>).metadata).toBeUndefined();
    expect(sandbox.messages().map((m) => m.metadata)).toEqual([metadata, null]);
  });
});

describe('conversations.history and conversations.replies', () => {
  async function postFive() {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    const ts: string[] = [];
    for (let i = 1; i <= 5; i++) ts.push((await client.chat.postMessage({ channel: 'U0ALICE', text: `m${i}` })).ts ?? '');
    await client.chat.postMessage({ channel: 'U0ALICE', thread_ts: ts[0], text: 'reply to m1' });
    await client.chat.postMessage({ channel: 'U0BOB', text: 'other channel' });
    return { sandbox, client, ts };
  }

  it('pages top-level messages newest first with cursors', async () => {
    const { client } = await postFive();
    const first = await client.conversations.history({ channel: 'D0ALICE', limit: 2 });
    expect(first.messages?.map((m) => m.text)).toEqual(['m5', 'm4']);
    expect(first).toMatchObject({ has_more: true, pin_count: 0 });
    const cursor = first.response_metadata?.next_cursor ?? '';
    expect(Buffer.from(cursor, 'base64').toString()).toMatch(/^next_ts:\d+\.\d{6}$/);
    const second = await client.conversations.history({ channel: 'D0ALICE', limit: 2, cursor });
    expect(second.messages?.map((m) => m.text)).toEqual(['m3', 'm2']);
    const third = await client.conversations.history({ channel: 'D0ALICE', limit: 2, cursor: second.response_metadata?.next_cursor });
    expect(third.messages?.map((m) => m.text)).toEqual(['m1']);
    expect(third).toMatchObject({ has_more: false, response_metadata: { next_cursor: '' } });

    const all: string[] = [];
    for await (const page of client.paginate('conversations.history', { channel: 'D0ALICE', limit: 3 })) {
      all.push(...((page as { messages?: { text: string }[] }).messages ?? []).map((m) => m.text));
    }
    expect(all).toEqual(['m5', 'm4', 'm3', 'm2', 'm1']);
  });

  it('cuts history to oldest/latest, exclusive unless inclusive', async () => {
    const { client, ts } = await postFive();
    const between = await client.conversations.history({ channel: 'D0ALICE', oldest: ts[1], latest: ts[3] });
    expect(between.messages?.map((m) => m.text)).toEqual(['m3']);
    const inclusive = await client.conversations.history({ channel: 'D0ALICE', oldest: ts[1], latest: ts[3], inclusive: true });
    expect(inclusive.messages?.map((m) => m.text)).toEqual(['m4', 'm3', 'm2']);
    expect(await platformError(client.conversations.history({ channel: 'D0ALICE', latest: 'yesterday' }))).toBe('invalid_ts_latest');
    expect(await platformError(client.conversations.history({ channel: 'D0ALICE', oldest: '-1' }))).toBe('invalid_ts_oldest');
    expect(await platformError(client.conversations.history({ channel: 'D0ALICE', cursor: 'bm9wZQ==' }))).toBe('invalid_cursor');
    expect(await platformError(client.conversations.history({ channel: 'U0ALICE' }))).toBe('channel_not_found');
    expect(await platformError(client.conversations.history({ channel: 'D0NOBODY' }))).toBe('channel_not_found');
  });

  it('answers conversations.replies with the parent, then its replies oldest first', async () => {
    const { sandbox, client, ts } = await postFive();
    const more = await client.chat.postMessage({ channel: 'D0ALICE', thread_ts: ts[0], text: 'second reply' });
    const thread = await client.conversations.replies({ channel: 'D0ALICE', ts: ts[0] ?? '' });
    expect(thread.messages?.map((m) => m.text)).toEqual(['m1', 'reply to m1', 'second reply']);
    expect(thread.messages?.[0]).toMatchObject({ reply_count: 2, latest_reply: more.ts, thread_ts: ts[0] });
    expect(thread.messages?.[1]).toMatchObject({ thread_ts: ts[0], parent_user_id: 'U0BOT' });
    expect(thread).toMatchObject({ has_more: false });

    // Any message of the thread names it; an unthreaded message is a thread of one.
    const viaReply = await client.conversations.replies({ channel: 'D0ALICE', ts: more.ts ?? '' });
    expect(viaReply.messages?.map((m) => m.text)).toEqual(['m1', 'reply to m1', 'second reply']);
    const single = await client.conversations.replies({ channel: 'D0ALICE', ts: ts[2] ?? '' });
    expect(single.messages?.map((m) => [m.text, m.reply_count])).toEqual([['m3', undefined]]);

    const paged = await client.conversations.replies({ channel: 'D0ALICE', ts: ts[0] ?? '', limit: 2 });
    expect(paged.messages?.map((m) => m.text)).toEqual(['m1', 'reply to m1']);
    const rest = await client.conversations.replies({ channel: 'D0ALICE', ts: ts[0] ?? '', limit: 2, cursor: paged.response_metadata?.next_cursor });
    expect(rest.messages?.map((m) => m.text)).toEqual(['second reply']);

    expect(await platformError(client.conversations.replies({ channel: 'D0ALICE', ts: '1.000001' }))).toBe('thread_not_found');
    expect(await platformError(client.conversations.replies({ channel: 'C0NONE', ts: ts[0] ?? '' }))).toBe('channel_not_found');
    expect(sandbox.callsTo('conversations.replies').every((call) => call.status === 200)).toBe(true);
  });
});
