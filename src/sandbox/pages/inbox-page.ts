import express, { type Router } from 'express';
import type { SandboxState } from '../sandbox-state.js';
import type { SandboxMessage, SandboxUser } from '../types.js';
import { html, layout, sendPage } from './html.js';
import { messageView } from './message-view.js';
import type { MrkdwnContext } from './mrkdwn.js';

/** Reload the inbox every few seconds, so a demo shows alerts as they arrive. */
const REFRESH_SECONDS = 5;

/**
 * The people-facing view, MailHog style: received DMs per member, newest first,
 * drawn as Slack would draw them (Block Kit, threads, edits), and the members.
 */
export function createInboxRouter(state: SandboxState): Router {
  const router = express.Router();

  router.get('/', (_req, res) => {
    sendPage(res, inboxPage(state));
  });

  router.get('/messages.json', (_req, res) => {
    res.json({ messages: state.messages.list() });
  });

  return router;
}

function inboxPage(state: SandboxState) {
  const messages = state.messages.list();
  const users = state.users.all();
  const context: MrkdwnContext = { userName: (id) => state.users.get(id)?.name };
  const body = html`
<p class="muted">Slack sandbox · team ${state.team.name} (${state.team.id}) · bot ${state.botUserId}</p>
<h1>Direct messages</h1>
<p class="muted">${messages.length} message(s), ${state.calls.length} Web API call(s) · <a href="/messages.json">messages.json</a> · refreshes every ${REFRESH_SECONDS} s</p>
${messages.length === 0 ? html`<p>No messages yet.</p>` : groupByMember(messages).map(([userId, received]) => memberSection(state.users.get(userId), userId, received, context))}
<h2>Members</h2>
<table>
  <thead><tr><th>ID</th><th>Name</th><th>Real name</th><th>Display name</th><th>E-mail</th><th></th></tr></thead>
  <tbody>${users.map(userRow)}</tbody>
</table>`;
  return layout('Slack sandbox', body, REFRESH_SECONDS);
}

/** Members ordered by their latest message (replies count), newest first; each member's messages newest first. */
function groupByMember(messages: SandboxMessage[]): [string, SandboxMessage[]][] {
  const groups = new Map<string, SandboxMessage[]>();
  for (const message of [...messages].reverse()) {
    const group = groups.get(message.user) ?? [];
    group.push(message);
    groups.set(message.user, group);
  }
  return [...groups.entries()];
}

/**
 * A member's DM as Slack shows it: top-level messages newest first, each with
 * its replies below, oldest first. Replies to a ts that names no message have
 * no parent to sit under, so they stand on their own, marked.
 */
function memberSection(user: SandboxUser | undefined, userId: string, newestFirst: SandboxMessage[], context: MrkdwnContext) {
  const title = user ? `${user.realName ?? user.name} (@${user.name})` : userId;
  const parents = new Set(newestFirst.filter((message) => message.threadTs === null).map((message) => threadKey(message.channel, message.ts)));
  const replies = new Map<string, SandboxMessage[]>();
  for (const message of [...newestFirst].reverse()) {
    if (message.threadTs === null) continue;
    const key = threadKey(message.channel, message.threadTs);
    const thread = replies.get(key) ?? [];
    thread.push(message);
    replies.set(key, thread);
  }
  const shown = newestFirst.filter((message) => message.threadTs === null || !parents.has(threadKey(message.channel, message.threadTs)));
  return html`
<h2>${title} <span class="muted">${userId} · ${newestFirst.length} message(s)</span></h2>
${shown.map((message) =>
  message.threadTs === null
    ? messageView(message, context, { replies: replies.get(threadKey(message.channel, message.ts)) })
    : messageView(message, context, { orphan: true }),
)}`;
}

function threadKey(channel: string, ts: string): string {
  return `${channel} ${ts}`;
}

function userRow(user: SandboxUser) {
  const flags = [user.deleted && 'deactivated', user.isBot && 'bot'].filter(Boolean).join(', ');
  return html`<tr><td><code>${user.id}</code></td><td>${user.name}</td><td>${user.realName}</td><td>${user.displayName}</td><td>${user.email}</td><td class="muted">${flags}</td></tr>`;
}

