import { BOT_ID, type SandboxState } from '../sandbox-state.js';
import type { SandboxMessage } from '../types.js';

export interface SlackMessageOptions {
  /** Answers to posts and edits carry the metadata; conversations.* only with include_all_metadata. */
  includeMetadata: boolean;
  /** A thread parent's replies, oldest first, for its reply_count etc.; omit for other messages. */
  replies?: readonly SandboxMessage[];
}

/**
 * A stored message as Slack's Web API shows it: the bot as author, the team it
 * was posted in, thread fields (a parent's summary, a reply's thread_ts and
 * parent_user_id), `edited` once updated, and metadata when asked for.
 */
export function toSlackMessage(state: SandboxState, message: SandboxMessage, options: SlackMessageOptions): Record<string, unknown> {
  return {
    type: 'message',
    text: message.text,
    user: state.botUserId,
    bot_id: BOT_ID,
    team: state.messages.teamOf(message) ?? state.team.id,
    ts: message.ts,
    ...(message.blocks ? { blocks: message.blocks } : {}),
    ...threadFields(state, message, options.replies ?? []),
    ...(message.edited ? { edited: { user: state.botUserId, ts: message.edited.ts } } : {}),
    ...(options.includeMetadata && message.metadata ? { metadata: message.metadata } : {}),
  };
}

function threadFields(state: SandboxState, message: SandboxMessage, replies: readonly SandboxMessage[]): Record<string, unknown> {
  if (message.threadTs !== null) {
    // A reply to an unknown ts has no parent whose author Slack could name.
    const parent = state.messages.get(message.channel, message.threadTs);
    return { thread_ts: message.threadTs, ...(parent ? { parent_user_id: state.botUserId } : {}) };
  }
  const latest = replies.at(-1);
  if (!latest) return {};
  // Only the bot posts in the sandbox, so it is the one reply user.
  const replyUsers = [state.botUserId];
  return {
    thread_ts: message.ts,
    reply_count: replies.length,
    reply_users_count: replyUsers.length,
    latest_reply: latest.ts,
    reply_users: replyUsers,
    is_locked: false,
  };
}

/** A channel's replies grouped by the ts of their parent, each group oldest first. */
export function repliesByParent(channelMessages: readonly SandboxMessage[]): Map<string, SandboxMessage[]> {
  const groups = new Map<string, SandboxMessage[]>();
  for (const message of channelMessages) {
    if (message.threadTs === null) continue;
    const group = groups.get(message.threadTs) ?? [];
    group.push(message);
    groups.set(message.threadTs, group);
  }
  return groups;
}
