import type { SandboxState } from '../sandbox-state.js';
import type { SandboxMessage } from '../types.js';
import { fail, type MethodFactory, ok, stringParam } from './api-method.js';
import { flagParam } from './message-content.js';
import { pageOfMessages } from './message-pages.js';
import { repliesByParent, toSlackMessage } from './slack-message.js';

// Slack's documented page sizes: conversations.history defaults to 100 and caps at 999;
// conversations.replies documents no cap, 1000 is its customary default.
const HISTORY_PAGE = { defaultLimit: 100, maxLimit: 999 };
const REPLIES_PAGE = { defaultLimit: 1000, maxLimit: 1000 };

export const historyMethods: MethodFactory = (state) => ({
  // The channel's top-level messages, newest first; replies only count towards their parent's reply_count.
  'conversations.history': {
    requiresToken: true,
    handle: ({ params }) => {
      const channel = stringParam(params, 'channel') ?? '';
      if (!state.dms.memberOf(channel)) return fail('channel_not_found');
      const inChannel = state.messages.list({ channel });
      const replies = repliesByParent(inChannel);
      const topLevel = inChannel.filter((message) => message.threadTs === null).reverse();
      const page = pageOfMessages(topLevel, params, { order: 'newest-first', ...HISTORY_PAGE });
      if (!page.ok) return fail(page.error);
      const includeMetadata = flagParam(params, 'include_all_metadata');
      return ok({
        messages: page.messages.map((message) => toSlackMessage(state, message, { includeMetadata, replies: replies.get(message.ts) })),
        has_more: page.hasMore,
        pin_count: 0,
        channel_actions_ts: null,
        channel_actions_count: 0,
        response_metadata: { next_cursor: page.nextCursor },
      });
    },
  },

  // A whole thread, parent first, then the replies oldest first. `ts` may name the parent or any reply.
  'conversations.replies': {
    requiresToken: true,
    handle: ({ params }) => {
      const channel = stringParam(params, 'channel') ?? '';
      if (!state.dms.memberOf(channel)) return fail('channel_not_found');
      const thread = threadOf(state, channel, stringParam(params, 'ts') ?? '');
      if (!thread) return fail('thread_not_found');
      const page = pageOfMessages(thread.messages, params, { order: 'oldest-first', ...REPLIES_PAGE });
      if (!page.ok) return fail(page.error);
      const includeMetadata = flagParam(params, 'include_all_metadata');
      return ok({
        messages: page.messages.map((message) =>
          toSlackMessage(state, message, { includeMetadata, replies: message === thread.parent ? thread.replies : undefined }),
        ),
        has_more: page.hasMore,
        response_metadata: { next_cursor: page.nextCursor },
      });
    },
  },
});

interface Thread {
  /** Absent for replies posted to a ts that names no message. */
  parent: SandboxMessage | undefined;
  replies: SandboxMessage[];
  messages: SandboxMessage[];
}

/** The thread a ts belongs to; an unthreaded message is a thread of one, as on Slack. */
function threadOf(state: SandboxState, channel: string, ts: string): Thread | null {
  const named = state.messages.get(channel, ts);
  if (!named) return null;
  const rootTs = named.threadTs ?? named.ts;
  const parent = state.messages.get(channel, rootTs);
  const replies = state.messages.list({ channel, threadTs: rootTs });
  return { parent, replies, messages: parent ? [parent, ...replies] : replies };
}
