import { describe, expect, it } from 'vitest';
import { renderMrkdwn, renderPlainText } from '../../src/sandbox/pages/mrkdwn.js';

const context = { userName: (id: string) => (id === 'U0ALICE' ? 'alice' : undefined) };
const render = (text: string) => renderMrkdwn(text, context).value;

describe('renderMrkdwn', () => {
  it('formats emphasis only where Slack does', () => {
    expect(render('*bold* _italic_ ~strike~')).toBe('<b>bold</b> <i>italic</i> <s>strike</s>');
    expect(render('_*both*_')).toBe('<i><b>both</b></i>');
    expect(render('snake_case_name, 2*3*4, * spaced *, a_b')).toBe('snake_case_name, 2*3*4, * spaced *, a_b');
    expect(render('(*in parens*).')).toBe('(<b>in parens</b>).');
    expect(render('*not\nacross lines*')).toBe('*not<br>across lines*');
  });

  it('keeps code verbatim: no formatting, no links inside', () => {
    expect(render('`*x* <https://a.example|a>`')).toBe('<code>*x* &lt;https://a.example|a&gt;</code>');
    expect(render('```\nline *1*\nline 2```')).toBe('<pre class="mrkdwn-pre">line *1*\nline 2</pre>');
  });

  it('decodes Slack’s three entities exactly once', () => {
    expect(render('&lt;b&gt; &amp; &amp;lt; &quot;')).toBe('&lt;b&gt; &amp; &amp;lt; &amp;quot;');
  });

  it('links http(s) URLs only, and escapes what it puts in the href', () => {
    expect(render('<https://a.example/x?q=1&amp;r=2|Label *b*>')).toBe(
      '<a href="https://a.example/x?q=1&amp;r=2" rel="noopener noreferrer" target="_blank">Label *b*</a>',
    );
    expect(render('<javascript:alert(1)|click>')).toBe('click');
    expect(render('<mailto:a@example.com|mail>')).toBe('mail');
    expect(render('<vbscript:x>')).toBe('&lt;vbscript:x&gt;');
    // The first `>` ends the link, as in Slack; the quote is percent-encoded in the href and escaped in the text.
    expect(render('<https://a.example/"><script>|x>')).toBe(
      '<a href="https://a.example/%22" rel="noopener noreferrer" target="_blank">https://a.example/&quot;</a>&lt;script&gt;|x&gt;',
    );
  });

  it('shows mentions, special mentions and dates by name', () => {
    expect(render('<@U0ALICE> <@U0NOBODY> <#C01|ops> <!here> <!subteam^S1|@oncall> <!date^1392734382^{date}|Feb 18>')).toBe(
      '<span class="mention">@alice</span> <span class="mention">@U0NOBODY</span> <span class="mention">#ops</span> ' +
        '<span class="mention">@here</span> <span class="mention">@oncall</span> Feb 18',
    );
  });

  it('turns emoji shortcodes, quotes and newlines into what Slack shows', () => {
    expect(render(':warning: :no_such_emoji: 10:30:00')).toBe('⚠️ :no_such_emoji: 10:30:00');
    expect(render('&gt; quoted\nnot')).toBe('<span class="mrkdwn-quote">quoted</span><br>not');
  });

  it('cannot forge the placeholders it uses internally', () => {
    expect(render('\u00000\u0000 `code`')).toBe('\uFFFD0\uFFFD <code>code</code>');
  });
});

describe('renderPlainText', () => {
  it('escapes, keeps mrkdwn characters, and honours emoji: false', () => {
    expect(renderPlainText('<b>*x*</b> :warning:').value).toBe('&lt;b&gt;*x*&lt;/b&gt; ⚠️');
    expect(renderPlainText(':warning:\nnext', false).value).toBe(':warning:<br>next');
  });
});
