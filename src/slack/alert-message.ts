import type { KnownBlock } from '@slack/web-api';
import type { AlertMessage, Severity } from '../domain.js';

/**
 * An alert as Block Kit (docs/contract.md §3): a header with the title, the severity as emoji and word in a
 * context block (Block Kit has no colours), the text in sections of at most 3,000 characters,
 * the fields, the link; and the plain text as the notification fallback.
 */

const SEVERITY_LABEL: Record<Severity, { emoji: string; word: string }> = {
  info: { emoji: ':information_source:', word: 'Info' },
  warning: { emoji: ':warning:', word: 'Warning' },
  error: { emoji: ':x:', word: 'Error' },
  critical: { emoji: ':rotating_light:', word: 'Critical' },
};

const SECTION_LIMIT = 3000;

/** Alert text is untrusted: `&`, `<` and `>` are escaped so it cannot form links or mentions. */
export const escapeMrkdwn = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Where a condition stands (§6.4): how often it fired, and when it resolved. */
export interface AlertState {
  fired: number;
  lastFiredAt: number;
  resolvedAt: number | null;
}

/** A time as Slack shows it to each member in their own time zone, with UTC as the fallback. */
export function slackDate(ms: number): string {
  const fallback = new Date(ms).toISOString().replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC');
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} at {time}|${fallback}>`;
}

export const severityLine = (severity: Severity) => `${SEVERITY_LABEL[severity].emoji} *${SEVERITY_LABEL[severity].word}*`;
export const severityWord = (severity: Severity) => SEVERITY_LABEL[severity].word;

export function formatAlertMessage(message: AlertMessage, state?: AlertState): { text: string; blocks: KnownBlock[] } {
  const severity = SEVERITY_LABEL[message.severity];
  const blocks: KnownBlock[] = [];
  if (message.title) {
    blocks.push({ type: 'header', text: { type: 'plain_text', text: message.title, emoji: true } });
  }
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: severityLine(message.severity) }],
  });
  // the condition's state, where Slack shows it first: resolved, or firing again
  if (state?.resolvedAt) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `:white_check_mark: *Resolved* ${slackDate(state.resolvedAt)}` }] });
  }
  if (state && state.fired > 1) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `:repeat: Fired ${state.fired} times, last ${slackDate(state.lastFiredAt)}` }],
    });
  }
  for (const chunk of chunks(escapeMrkdwn(message.text), SECTION_LIMIT)) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: chunk } });
  }
  const fields = Object.entries(message.fields ?? {});
  if (fields.length > 0) {
    blocks.push({
      type: 'section',
      fields: fields.map(([key, value]) => ({
        type: 'mrkdwn',
        text: `*${escapeMrkdwn(key)}*\n${escapeMrkdwn(value) || ' '}`,
      })),
    });
  }
  if (message.link) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `<${message.link.replace(/[<>|]/g, encodeURIComponent)}|Open link>` } });
  }
  // The notification fallback is mrkdwn too: escaped like the blocks, or `<!channel>` would ping
  const prefix = state?.resolvedAt ? `[Resolved] [${severity.word}]` : `[${severity.word}]`;
  const body = message.title ? `${message.title}: ${message.text}` : message.text;
  const text = `${prefix} ${escapeMrkdwn(body)}`;
  return { text, blocks };
}

/** Split into pieces of at most `size` characters, preferring to break at a newline. */
function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > size) {
    const newline = rest.lastIndexOf('\n', size);
    const cut = newline > size / 2 ? newline + 1 : size;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest.length > 0) out.push(rest);
  return out;
}
