import { describe, expect, it } from 'vitest';
import { startSandbox, webClient } from './helpers.js';

/** Every element and attribute the inbox may emit; anything else came from a message. */
const ALLOWED_TAGS = new Set(
  'html head meta title style body p h1 h2 a table thead tbody tr th td code div span details summary pre b i s br hr'.split(' '),
);
const ALLOWED_ATTRIBUTES = new Set(['lang', 'charset', 'name', 'content', 'http-equiv', 'class', 'href', 'rel', 'target', 'title']);

/** Tags, attributes and link targets in the page that the inbox itself would never write. */
function foreignMarkup(page: string): string[] {
  const found: string[] = [];
  for (const [, tag = '', attributes = ''] of page.matchAll(/<([a-zA-Z][\w-]*)([^>]*)>/g)) {
    if (!ALLOWED_TAGS.has(tag.toLowerCase())) found.push(`<${tag}>`);
    for (const [, name = '', value = ''] of attributes.matchAll(/([^\s=]+)(?:="([^"]*)")?/g)) {
      if (!ALLOWED_ATTRIBUTES.has(name.toLowerCase())) found.push(`${tag} ${name}`);
      if (name === 'href' && !/^(https?:\/\/|\/messages\.json$)/.test(value)) found.push(`href ${value}`);
    }
  }
  return found;
}

async function inbox(url: string): Promise<string> {
  const response = await fetch(`${url}/`);
  expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'");
  return response.text();
}

describe('inbox page: Block Kit as the member sees it', () => {
  it('draws header, context, mrkdwn sections, two-column fields, dividers and links', async () => {
    const sandbox = await startSandbox();
    await webClient(sandbox).chat.postMessage({
      channel: 'U0ALICE',
      text: '[Warning] db-1: disk full',
      metadata: { event_type: 'alert_posted', event_payload: { id: 'a-1' } },
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'db-1 disk', emoji: true } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: ':warning: *Warning*' }] },
        { type: 'section', text: { type: 'mrkdwn', text: 'Disk *95%* full on _db-1_, ~fine~ `/var` &lt;tag&gt; &amp; co\nnext line' } },
        { type: 'section', text: { type: 'mrkdwn', text: '```df -h\n/dev/sda1 95%```' } },
        { type: 'section', fields: [{ type: 'mrkdwn', text: '*host*\ndb-1' }, { type: 'mrkdwn', text: '*region*\neu-west' }] },
        { type: 'divider' },
        { type: 'section', text: { type: 'mrkdwn', text: '<https://grafana.example/d/1?a=1&amp;b=2|Open link> or <https://example.com/plain>' } },
      ],
    });

    const page = await inbox(sandbox.url);
    expect(page).toContain('<div class="bk-header">db-1 disk</div>');
    expect(page).toContain('<div class="bk-context"><span>⚠️ <b>Warning</b></span></div>');
    expect(page).toContain('Disk <b>95%</b> full on <i>db-1</i>, <s>fine</s> <code>/var</code> &lt;tag&gt; &amp; co<br>next line');
    expect(page).toContain('<pre class="mrkdwn-pre">df -h\n/dev/sda1 95%</pre>');
    expect(page).toContain('<div class="bk-fields"><div><b>host</b><br>db-1</div><div><b>region</b><br>eu-west</div></div>');
    expect(page).toContain('<hr class="bk-divider">');
    expect(page).toContain('<a href="https://grafana.example/d/1?a=1&amp;b=2" rel="noopener noreferrer" target="_blank">Open link</a>');
    expect(page).toContain('<a href="https://example.com/plain" rel="noopener noreferrer" target="_blank">https://example.com/plain</a>');
    expect(page).toContain('<span class="badge" title="metadata event_type">alert_posted</span>');
    expect(page).toContain('Notification text: [Warning] db-1: disk full'); // folded away with the raw JSON
    expect(page).toMatch(/<details><summary class="muted">7 block\(s\) · raw JSON<\/summary>/);
    expect(foreignMarkup(page)).toEqual([]);
  });

  it('falls back to the text, as mrkdwn, when a message has no blocks', async () => {
    const sandbox = await startSandbox();
    await webClient(sandbox).chat.postMessage({ channel: 'U0BOB', text: 'plain *text* for <@U0ALICE>, see https://example.com/a_b_c' });
    const page = await inbox(sandbox.url);
    expect(page).toContain(
      'plain <b>text</b> for <span class="mention">@alice</span>, see <a href="https://example.com/a_b_c" rel="noopener noreferrer" target="_blank">https://example.com/a_b_c</a>',
    );
  });

  it('shows replies indented under their parent and edits with their earlier versions', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    const parent = await client.chat.postMessage({ channel: 'U0ALICE', text: 'disk *95%*' });
    await client.chat.postMessage({ channel: 'D0ALICE', thread_ts: parent.ts, text: 'first reply' });
    await client.chat.postMessage({ channel: 'D0ALICE', thread_ts: parent.ts, text: 'second reply' });
    await client.chat.postMessage({ channel: 'U0ALICE', text: 'a later top-level message' });
    await client.chat.update({ channel: 'D0ALICE', ts: parent.ts ?? '', text: 'disk *60%*, resolved' });
    await client.chat.postMessage({ channel: 'D0ALICE', thread_ts: '1500000000.000001', text: 'reply to nothing' });

    const page = await inbox(sandbox.url);
    const at = (text: string) => page.indexOf(text);
    // Newest top-level first; the thread below its parent, oldest reply first.
    expect(at('a later top-level message')).toBeLessThan(at('disk <b>60%</b>, resolved'));
    expect(at('disk <b>60%</b>, resolved')).toBeLessThan(at('<div class="muted">2 replies</div>'));
    expect(at('<div class="muted">2 replies</div>')).toBeLessThan(at('first reply'));
    expect(at('first reply')).toBeLessThan(at('second reply'));
    expect(page).toMatch(/<div class="thread">\s*<div class="muted">2 replies<\/div>\s*<div class="message">/);

    expect(page).toContain('disk <b>60%</b>, resolved <span class="edited">(edited)</span>');
    expect(page).toMatch(/<details class="versions"><summary class="muted">1 earlier version\(s\)<\/summary>[\s\S]*disk <b>95%<\/b>/);
    expect(page).toContain('reply to 1500000000.000001, which is no message here');
    expect(page).toContain('reply to nothing');
  });
});

describe('inbox page: hostile message text stays text', () => {
  const HOSTILE = [
    '<script>alert(1)</script>',
    '"onmouseover=alert(1) x="',
    "' onfocus='alert(2)",
    '<javascript:alert(1)|x>',
    '<JavaScript:alert(1)>',
    '<data:text/html,<b>hi</b>|data>',
    '<https://ok.example/"onmouseover="alert(3)|quoted url>',
    '<img src=x onerror=alert(4)>',
    '*<b>bold</b>* _<i onclick=alert(5)>_',
    '`<style>body{display:none}</style>`',
    '```</pre><script>alert(6)</script>```',
    '\u00000\u0000 forged placeholder',
    '&lt;script&gt;alert(7)&lt;/script&gt;',
  ].join('\n');

  it('produces no element, attribute or link target of its own, in text, blocks, fields, headers or edits', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    const posted = await client.chat.postMessage({ channel: 'U0BOB', text: HOSTILE });
    // apiCall: some of these blocks are malformed on purpose, which the WebClient's types would refuse.
    await client.apiCall('chat.postMessage', {
      channel: 'U0BOB',
      text: HOSTILE,
      metadata: { event_type: 'x', event_payload: { html: '<script>alert(8)</script>' } },
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: '<script>alert(9)</script>' } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: HOSTILE }, { type: 'image', image_url: 'javascript:alert(1)', alt_text: '<b>alt</b>' }] },
        { type: 'section', text: { type: 'mrkdwn', text: HOSTILE }, fields: [{ type: 'plain_text', text: HOSTILE }], accessory: { type: 'button', text: { type: 'plain_text', text: '"><script>' } } },
        { type: 'section', text: { type: 'mrkdwn', text: { nested: 'not a string' } }, fields: 'not a list' },
        { type: '<script>' },
        { type: 'actions', elements: [{ type: 'static_select', placeholder: { type: 'plain_text', text: '<i>pick</i>' } }] },
      ],
    });
    await client.chat.postMessage({ channel: 'D0BOB', thread_ts: posted.ts, text: HOSTILE });
    await client.chat.update({ channel: 'D0BOB', ts: posted.ts ?? '', text: `edited ${HOSTILE}` });

    const page = await inbox(sandbox.url);
    expect(foreignMarkup(page)).toEqual([]);
    expect(page).not.toMatch(/<script|<img|<style>body|javascript:alert\(1\)"|href="data:/i);
    // What a member would read is still there, as text.
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('&quot;onmouseover=alert(1) x=&quot;');
    expect(page).toContain('<a href="https://ok.example/%22onmouseover=%22alert(3)" rel="noopener noreferrer" target="_blank">quoted url</a>');
    expect(page).toContain('&amp;lt;script&amp;gt;alert(7)'); // in the raw JSON of the blocks
    expect(page).toContain('\uFFFD0\uFFFD forged placeholder');
  });
});
