import type { SandboxMessage, SandboxMessageVersion } from '../types.js';
import { renderBlocks } from './block-kit.js';
import { html, type SafeHtml } from './html.js';
import { type MrkdwnContext, renderMrkdwn } from './mrkdwn.js';

export interface MessageViewOptions {
  /** Replies shown indented below, oldest first. */
  replies?: readonly SandboxMessage[];
  /** A reply whose thread_ts names no message: shown on its own, marked as such. */
  orphan?: boolean;
}

/**
 * One message as the member sees it: the blocks drawn (or the text when there
 * are none), "(edited)" after an edit, the earlier versions and the raw JSON
 * folded away, and its thread's replies indented below it.
 */
export function messageView(message: SandboxMessage, context: MrkdwnContext, options: MessageViewOptions = {}): SafeHtml {
  const replies = options.replies ?? [];
  return html`
<div class="message">
  <div class="muted">${formatTime(message.at)} · ts ${message.ts} · ${message.channel}${
    options.orphan ? html` · <span class="badge">reply to ${message.threadTs}, which is no message here</span>` : null
  }${message.metadata ? html` · <span class="badge" title="metadata event_type">${message.metadata.event_type}</span>` : null}</div>
  <div class="msg-body">${content(message, context, message.edited ? html` <span class="edited">(edited)</span>` : null)}</div>
  ${message.history.length ? earlierVersions(message.history, context) : null}
  <details><summary class="muted">${message.blocks?.length ?? 0} block(s) · raw JSON</summary>${
    message.blocks?.length ? html`<p class="muted">Notification text: ${message.text || '(none)'}</p>` : null
  }<pre>${JSON.stringify({ blocks: message.blocks, metadata: message.metadata }, null, 2)}</pre></details>
  ${replies.length ? thread(replies, context) : null}
</div>`;
}

function thread(replies: readonly SandboxMessage[], context: MrkdwnContext): SafeHtml {
  return html`
  <div class="thread">
    <div class="muted">${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}</div>
    ${replies.map((reply) => messageView(reply, context))}
  </div>`;
}

function earlierVersions(history: readonly SandboxMessageVersion[], context: MrkdwnContext): SafeHtml {
  return html`
  <details class="versions"><summary class="muted">${history.length} earlier version(s)</summary>${history.map(
    (version, index) => html`
    <div class="version"><div class="muted">${index === 0 ? 'posted' : 'edited'} ${formatTime(version.at)}</div>${content(version, context)}</div>`,
  )}
  </details>`;
}

/**
 * What Slack draws: the blocks when there are any, else the text (which is
 * mrkdwn too). `marker` ("(edited)") follows the text on its line, as in Slack.
 */
function content(version: { text: string; blocks: unknown[] | null }, context: MrkdwnContext, marker: SafeHtml | null = null): SafeHtml {
  if (version.blocks && version.blocks.length > 0) return html`${renderBlocks(version.blocks, context)}${marker}`;
  return version.text ? html`<div>${renderMrkdwn(version.text, context)}${marker}</div>` : html`<span class="muted">(no text)</span>${marker}`;
}

export function formatTime(at: number): string {
  return new Date(at).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}
