import type { SandboxState } from '../sandbox-state.js';
import type { SandboxMessage } from '../types.js';
import { type ApiReply, fail, type MethodFactory, ok, rateLimited, stringParam } from './api-method.js';
import { attachmentsText, MAX_TEXT_LENGTH, type ParsedMetadata, parseBlocks, parseMetadata } from './message-content.js';
import { toSlackMessage } from './slack-message.js';

export const chatMethods: MethodFactory = (state) => ({
  'chat.postMessage': {
    requiresToken: true,
    handle: ({ params, token, teamId }) => {
      const dm = resolveDm(state, stringParam(params, 'channel'));
      if (!dm) return fail('channel_not_found');

      const given = stringParam(params, 'text') ?? '';
      if (given.length > MAX_TEXT_LENGTH) return fail('msg_too_long');
      const blocks = parseBlocks(params.blocks);
      if (blocks === 'invalid') return fail('invalid_blocks');
      const attached = attachmentsText(params.attachments);
      if (attached === 'invalid') return fail('invalid_attachments');
      // a post of attachments alone reads as what they show
      const text = given || attached;
      if (text === '' && (blocks === null || blocks.length === 0)) return fail('no_text');
      const metadata = parseMetadata(params.metadata);
      if (metadata.kind === 'error') return fail(metadata.error);
      // reply_broadcast is accepted and ignored: the reply stays in its thread, no channel copy is made.
      const threadTs = threadParentTs(state, dm.channel, stringParam(params, 'thread_ts'));

      // Checked last: only posts that would really land in the channel count against its limit, replies included.
      const retryAfter = state.rateLimiter?.acquire(dm.channel) ?? null;
      if (retryAfter !== null) return rateLimited(retryAfter);

      const at = Date.now();
      const ts = state.tsClock.next(at);
      const message: SandboxMessage = {
        channel: dm.channel,
        user: dm.user,
        text,
        blocks,
        ts,
        token,
        at,
        threadTs,
        metadata: metadata.kind === 'valid' ? metadata.metadata : null,
        edited: null,
        history: [],
      };
      state.messages.add(message, state.teamFor(teamId).id);
      return ok({ channel: dm.channel, ts, message: toSlackMessage(state, message, { includeMetadata: true }), ...warningOf(metadata) });
    },
  },

  'chat.update': {
    requiresToken: true,
    handle: ({ params, teamId }) => update(state, params, teamId),
  },
});

/**
 * chat.update as Slack documents it: `blocks` left out keeps the earlier
 * blocks (so new text alone changes only the notification fallback), `[]`
 * removes them; `metadata` left out keeps it, `{}` removes it. The message keeps
 * its ts and gains `edited`; edits count against the channel's posting limit.
 */
function update(state: SandboxState, params: Record<string, unknown>, teamId: string | null): ApiReply {
  const channel = stringParam(params, 'channel') ?? '';
  if (!state.dms.memberOf(channel)) {
    // The docs insist on the DM id; given a user id, Slack looks in another conversation and finds no such message.
    return fail(state.users.get(channel) ? 'message_not_found' : 'channel_not_found');
  }
  const current = state.messages.get(channel, stringParam(params, 'ts') ?? '');
  if (!current) return fail('message_not_found');
  // Another workspace's installation of the app did not post it, so it may not edit it.
  if (state.messages.teamOf(current) !== state.teamFor(teamId).id) return fail('cant_update_message');

  const text = stringParam(params, 'text') ?? '';
  if (text.length > MAX_TEXT_LENGTH) return fail('msg_too_long');
  const givenBlocks = parseBlocks(params.blocks);
  if (givenBlocks === 'invalid') return fail('invalid_blocks');
  const blocks = givenBlocks ?? current.blocks;
  if (text === '' && (blocks === null || blocks.length === 0)) return fail('no_text');
  const metadata = parseMetadata(params.metadata);
  if (metadata.kind === 'error') return fail(metadata.error);
  const nextMetadata = metadata.kind === 'valid' ? metadata.metadata : metadata.kind === 'empty' ? null : current.metadata;

  const retryAfter = state.rateLimiter?.acquire(channel) ?? null;
  if (retryAfter !== null) return rateLimited(retryAfter);

  const at = Date.now();
  const edited = state.messages.edit(channel, current.ts, { text, blocks, metadata: nextMetadata, editedTs: state.tsClock.next(at), at });
  const replies = edited.threadTs === null ? state.messages.list({ channel, threadTs: edited.ts }) : [];
  const message = toSlackMessage(state, edited, { includeMetadata: true, replies });
  delete message.ts; // Slack's chat.update names the ts beside the message, not in it
  return ok({ channel, ts: edited.ts, text, message, ...warningOf(metadata) });
}

/**
 * Slack accepts an opened DM channel id, or a user id (the message then goes
 * to the bot's DM with that user). Deactivated users' DMs still accept posts,
 * as on Slack.
 */
function resolveDm(state: SandboxState, channel: string | undefined): { channel: string; user: string } | null {
  if (!channel) return null;
  const member = state.dms.memberOf(channel);
  if (member) return { channel, user: member };
  if (state.users.get(channel)) return { channel: state.dms.open(channel), user: channel };
  return null;
}

/**
 * The parent a reply is filed under. Slack documents no error for a thread_ts
 * that names no message and accepts such posts (the reply then hangs under
 * nothing anyone can see), so the sandbox does too. A reply's own ts is taken
 * as its thread's parent: the docs tell clients to do that themselves.
 */
function threadParentTs(state: SandboxState, channel: string, threadTs: string | undefined): string | null {
  if (!threadTs) return null;
  return state.messages.get(channel, threadTs)?.threadTs ?? threadTs;
}

/** Slack reports dropped metadata as a warning on an otherwise successful call. */
function warningOf(metadata: ParsedMetadata): Record<string, unknown> {
  return metadata.kind === 'dropped' ? { warning: metadata.warning, response_metadata: { warnings: [metadata.warning] } } : {};
}
