import type { KnownBlock } from '@slack/web-api';
import type { MessageEntry } from '../db/rows.js';
import type { AlertMessage } from '../domain.js';
import { escapeMrkdwn, formatAlertMessage, severityLine, severityWord, slackDate } from './alert-message.js';

/**
 * Messages that change (docs/contract.md §6.4, §6.5): a condition's message with its state, the
 * short replies in its thread, several alerts in one message, and the metadata every post carries.
 */

/** Slack's limits for one message: at most 50 blocks; we keep the text well under Slack's 40,000. */
export const MAX_BLOCKS = 50;
export const MAX_MESSAGE_CHARS = 12_000;
/** A coalesced message shows each alert on one line, cut to this. */
const LINE_CHARS = 240;

export const entryMessage = (entry: MessageEntry): AlertMessage => ({
  title: entry.title ?? undefined,
  text: entry.text,
  severity: entry.severity,
  fields: entry.fields ?? undefined,
  link: entry.link ?? undefined,
});

/** A message as it now reads: one alert in full, or several (a storm, §6.5), one line each. */
export function renderEntries(entries: MessageEntry[]): { text: string; blocks: KnownBlock[] } {
  if (entries.length === 1) {
    const [entry] = entries;
    return formatAlertMessage(entryMessage(entry!), entry!);
  }
  const open = entries.filter((entry) => !entry.resolvedAt).length;
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: `${entries.length} alerts`, emoji: true } },
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: open === entries.length ? `${open} firing` : `${open} firing, ${entries.length - open} resolved` }],
    },
  ];
  for (const entry of entries) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: entryLine(entry) } });
  const text = `${entries.length} alerts: ${entries.map((entry) => escapeMrkdwn(entry.title ?? entry.text).slice(0, 80)).join('; ')}`.slice(0, 2000);
  return { text, blocks };
}

/** One alert of a coalesced message: its severity, title and text on one line, and its state. */
export function entryLine(entry: MessageEntry): string {
  const title = entry.title ? `*${escapeMrkdwn(entry.title)}* ` : '';
  const body = escapeMrkdwn(entry.text.replace(/\s+/g, ' '));
  const cut = body.length > LINE_CHARS ? `${body.slice(0, LINE_CHARS - 1)}…` : body;
  const line = `${severityLine(entry.severity)} ${title}${cut}`;
  if (entry.resolvedAt) return `~${line}~ — :white_check_mark: resolved ${slackDate(entry.resolvedAt)}`;
  return entry.fired > 1 ? `${line} — :repeat: fired ${entry.fired} times` : line;
}

/** How many alerts fit in one coalesced message, within Slack's limits. */
export function fitsInOneMessage(entries: MessageEntry[]): number {
  let chars = 200;
  let count = 0;
  for (const entry of entries) {
    chars += entryLine(entry).length + 20;
    if (count + 1 > MAX_BLOCKS - 2 || chars > MAX_MESSAGE_CHARS) break;
    count += 1;
  }
  return Math.max(1, count);
}

/** The reply in a condition's thread when it fires again. */
export function repeatReply(entry: MessageEntry, message: AlertMessage): { text: string; blocks: KnownBlock[] } {
  const line = `:repeat: *Firing again* (${entry.fired} times) ${slackDate(entry.lastFiredAt)}`;
  const body = escapeMrkdwn(message.text).slice(0, 2900);
  return {
    text: `[${severityWord(message.severity)}] Firing again (${entry.fired} times): ${escapeMrkdwn(message.text).slice(0, 500)}`,
    blocks: [
      { type: 'context', elements: [{ type: 'mrkdwn', text: line }] },
      { type: 'section', text: { type: 'mrkdwn', text: body } },
    ],
  };
}

/** The reply in a condition's thread when it resolves. */
export function resolvedReply(entry: MessageEntry): { text: string; blocks: KnownBlock[] } {
  const what = entry.title ? `*${escapeMrkdwn(entry.title)}* ` : '';
  return {
    text: `Resolved: ${escapeMrkdwn(entry.title ?? entry.text).slice(0, 500)}`,
    blocks: [{ type: 'context', elements: [{ type: 'mrkdwn', text: `:white_check_mark: ${what}*Resolved* ${slackDate(entry.resolvedAt ?? entry.lastFiredAt)}` }] }],
  };
}

/** The metadata on every post of the relay (§6.4): which alert, and which condition. */
export function alertMetadata(alertId: string, dedupKey: string | null, others: string[]) {
  // (Slack's payload values are strings, numbers or booleans: an alert with no key says '', and a
  // storm's message lists the other alerts it carries as one string)
  return {
    event_type: 'relay_alert',
    event_payload: { alert_id: alertId, dedup_key: dedupKey ?? '', ...(others.length > 0 ? { alert_ids: others.join(',') } : {}) },
  };
}

/**
 * The alerts a post's metadata names (alertMetadata's reader): the one that posted it, then a
 * storm's others; empty for a message that is not the relay's. Hostile until checked by the caller.
 */
export function carriedAlertIds(metadata: unknown): string[] {
  const { event_type: type, event_payload: payload } = (metadata ?? {}) as { event_type?: unknown; event_payload?: { alert_id?: unknown; alert_ids?: unknown } };
  if (type !== 'relay_alert' || typeof payload?.alert_id !== 'string') return [];
  return [payload.alert_id, ...(typeof payload.alert_ids === 'string' ? payload.alert_ids.split(',') : [])];
}
