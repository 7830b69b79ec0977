import express, { type Router } from 'express';
import type { SandboxState } from '../sandbox-state.js';
import type { SandboxMessage, SandboxUser } from '../types.js';
import { html, layout, sendPage } from './html.js';

/** Reload the inbox every few seconds, so a demo shows alerts as they arrive. */
const REFRESH_SECONDS = 5;

/** The people-facing view, MailHog style: received DMs per member, newest first, and the members. */
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
  const body = html`
<p class="muted">Slack sandbox · team ${state.team.name} (${state.team.id}) · bot ${state.botUserId}</p>
<h1>Direct messages</h1>
<p class="muted">${messages.length} message(s), ${state.calls.length} Web API call(s) · <a href="/messages.json">messages.json</a> · refreshes every ${REFRESH_SECONDS} s</p>
${messages.length === 0 ? html`<p>No messages yet.</p>` : groupByMember(messages).map(([userId, received]) => memberSection(state.users.get(userId), userId, received))}
<h2>Members</h2>
<table>
  <thead><tr><th>ID</th><th>Name</th><th>Real name</th><th>Display name</th><th>E-mail</th><th></th></tr></thead>
  <tbody>${users.map(userRow)}</tbody>
</table>`;
  return layout('Slack sandbox', body, REFRESH_SECONDS);
}

/** Members ordered by their latest message, newest first; each member's messages newest first. */
function groupByMember(messages: SandboxMessage[]): [string, SandboxMessage[]][] {
  const groups = new Map<string, SandboxMessage[]>();
  for (const message of [...messages].reverse()) {
    const group = groups.get(message.user) ?? [];
    group.push(message);
    groups.set(message.user, group);
  }
  return [...groups.entries()];
}

function memberSection(user: SandboxUser | undefined, userId: string, messages: SandboxMessage[]) {
  const title = user ? `${user.realName ?? user.name} (@${user.name})` : userId;
  return html`
<h2>${title} <span class="muted">${userId} · ${messages.length} message(s)</span></h2>
${messages.map(
  (message) => html`
<div class="message">
  <div class="muted">${formatTime(message.at)} · ts ${message.ts} · ${message.channel}</div>
  <div>${message.text || html`<span class="muted">(no text)</span>`}</div>
  ${message.blocks ? html`<details><summary class="muted">${message.blocks.length} block(s)</summary><pre>${JSON.stringify(message.blocks, null, 2)}</pre></details>` : null}
</div>`,
)}`;
}

function userRow(user: SandboxUser) {
  const flags = [user.deleted && 'deactivated', user.isBot && 'bot'].filter(Boolean).join(', ');
  return html`<tr><td><code>${user.id}</code></td><td>${user.name}</td><td>${user.realName}</td><td>${user.displayName}</td><td>${user.email}</td><td class="muted">${flags}</td></tr>`;
}

function formatTime(at: number): string {
  return new Date(at).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}
