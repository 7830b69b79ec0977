import { escapeHtml, SafeHtml } from './html.js';

/** What the renderer needs to know about the workspace. */
export interface MrkdwnContext {
  /** The name shown for `<@U…>`; undefined shows the id. */
  userName(id: string): string | undefined;
}

/** The shortcodes alerts commonly use; others stay as `:name:`, which is still readable. */
const EMOJI: Record<string, string> = {
  information_source: 'ℹ️', warning: '⚠️', x: '❌', rotating_light: '🚨', white_check_mark: '✅', repeat: '🔁',
  heavy_check_mark: '✔️', bell: '🔔', fire: '🔥', rocket: '🚀', tada: '🎉', eyes: '👀', '+1': '👍',
  thumbsup: '👍', '-1': '👎', thumbsdown: '👎', red_circle: '🔴', large_green_circle: '🟢',
  large_yellow_circle: '🟡', large_blue_circle: '🔵', hourglass: '⌛', hourglass_flowing_sand: '⏳',
  memo: '📝', link: '🔗', chart_with_upwards_trend: '📈', chart_with_downwards_trend: '📉', bulb: '💡',
  lock: '🔒', mag: '🔍', construction: '🚧', no_entry: '⛔', zap: '⚡', boom: '💥', sos: '🆘',
  wave: '👋', heart: '❤️', slightly_smiling_face: '🙂', calendar: '📅', pushpin: '📌', stopwatch: '⏱️',
};

/** Stands in for finished markup while the rest of the text is still being formatted. */
const PLACEHOLDER = /\u0000(\d+)\u0000/g;

/**
 * Emphasis as Slack reads it: the markers hug the words (no space inside) and
 * stand apart from letters and digits outside, so `snake_case` and `2*3*4` stay
 * as typed. Markers never match across lines.
 */
const EMPHASIS: [RegExp, string][] = [
  [/(^|[^\p{L}\p{N}*])\*(?!\s)([^*\n]*?[^\s*])\*(?![\p{L}\p{N}*])/gu, 'b'],
  [/(^|[^\p{L}\p{N}_])_(?!\s)([^_\n]*?[^\s_])_(?![\p{L}\p{N}_])/gu, 'i'],
  [/(^|[^\p{L}\p{N}~])~(?!\s)([^~\n]*?[^\s~])~(?![\p{L}\p{N}~])/gu, 's'],
];

/**
 * Slack mrkdwn as the member sees it: *bold*, _italic_, ~strike~, `code`,
 * ```pre```, `<url|label>` and `<url>` links, bare URLs, mentions, `>` quotes,
 * emoji shortcodes, newlines, and the three entities Slack asks senders to use
 * (&amp; &lt; &gt;) decoded once.
 *
 * Safety: every piece of the text goes through escapeHtml before any markup
 * is put around it, and the only markup added is fixed tags plus `href`s of
 * URLs that parse as http(s). Finished pieces (code, links) are held out as
 * placeholders so later passes cannot reach inside them; NULs in the text are
 * replaced first so that it cannot forge a placeholder.
 */
export function renderMrkdwn(source: string, context: MrkdwnContext): SafeHtml {
  const held: string[] = [];
  const hold = (markup: string): string => `\u0000${held.push(markup) - 1}\u0000`;

  let text = source.replace(/\u0000/g, '\uFFFD');
  text = text.replace(/```\n?([\s\S]*?)```/g, (_whole, code: string) => hold(`<pre class="mrkdwn-pre">${escapeText(code)}</pre>`));
  text = text.replace(/`([^`\n]+)`/g, (_whole, code: string) => hold(`<code>${escapeText(code)}</code>`));
  // Raw `<` is Slack's delimiter; a sender's own `<` arrives as &lt; and never opens a link.
  text = text.replace(/<([^<>\n]*)>/g, (whole, inner: string) => hold(angleToken(inner, context) ?? escapeText(whole)));
  text = text.replace(/\bhttps?:\/\/[^\s\u0000<>"'`]+[^\s\u0000<>"'`.,;:!?)\]]/gi, (url) => hold(link(decodeEntities(url)) ?? escapeText(url)));

  text = escapeText(text).replace(/:([a-z0-9_+-]+):/g, (whole, name: string) => EMOJI[name] ?? whole);
  for (const [pattern, tag] of EMPHASIS) text = text.replace(pattern, `$1<${tag}>$2</${tag}>`);
  text = text
    .split('\n')
    .map((line) => (line.startsWith('&gt;') ? `<span class="mrkdwn-quote">${line.replace(/^&gt;\s?/, '')}</span>` : line))
    .join('<br>');
  return new SafeHtml(text.replace(PLACEHOLDER, (_whole, index: string) => held[Number(index)] ?? ''));
}

/** plain_text objects: shown as typed, with emoji shortcodes unless `emoji: false`. */
export function renderPlainText(source: string, emoji = true): SafeHtml {
  const escaped = escapeHtml(source);
  const withEmoji = emoji ? escaped.replace(/:([a-z0-9_+-]+):/g, (whole, name: string) => EMOJI[name] ?? whole) : escaped;
  return new SafeHtml(withEmoji.replace(/\n/g, '<br>'));
}

/** `<…>` sequences: links, user and channel mentions, special mentions and dates; null when it is none of these. */
function angleToken(inner: string, context: MrkdwnContext): string | null {
  const bar = inner.indexOf('|');
  const target = bar < 0 ? inner : inner.slice(0, bar);
  const label = bar < 0 ? undefined : inner.slice(bar + 1);
  const mention = (shown: string) => `<span class="mention">${escapeText(shown)}</span>`;
  if (target.startsWith('@')) return mention(`@${label || context.userName(target.slice(1)) || target.slice(1)}`);
  if (target.startsWith('#')) return mention(`#${label || target.slice(1)}`);
  if (target.startsWith('!subteam^')) return mention(label || `@${target.slice('!subteam^'.length)}`);
  if (target.startsWith('!date^')) return escapeText(label ?? target);
  if (/^!(here|channel|everyone)$/.test(target)) return mention(`@${target.slice(1)}`);
  const url = decodeEntities(target);
  const anchor = link(url, label === undefined ? undefined : decodeEntities(label));
  if (anchor) return anchor;
  // Not an http(s) URL (javascript:, mailto:, …): the label alone, as inert text.
  return label === undefined ? null : escapeText(label);
}

function link(url: string, label?: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  const shown = label === undefined || label === '' ? url : label;
  // The parsed form percent-encodes quotes and spaces; escaping it as well keeps the attribute closed whatever came in.
  return `<a href="${escapeHtml(parsed.href)}" rel="noopener noreferrer" target="_blank">${escapeHtml(shown)}</a>`;
}

/** Decodes Slack's entities once, then escapes for HTML. */
function escapeText(text: string): string {
  return escapeHtml(decodeEntities(text));
}

function decodeEntities(text: string): string {
  return text.replace(/&(lt|gt|amp);/g, (_whole, name: string) => (name === 'lt' ? '<' : name === 'gt' ? '>' : '&'));
}
