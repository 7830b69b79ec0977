import { describe, expect, it } from 'vitest';
import { formatAlertMessage } from '../../src/slack/alert-message.js';

describe('formatAlertMessage', () => {
  it('builds header, severity context, sections, fields and link, with a text fallback', () => {
    const { text, blocks } = formatAlertMessage({
      title: 'Disk full',
      text: 'db-1 is at 99% <@U123> & more',
      severity: 'critical',
      fields: { host: 'db-1', region: 'eu' },
      link: 'https://grafana.example.com/d/1',
    });
    // the notification fallback is mrkdwn too, escaped like the blocks
    expect(text).toBe('[Critical] Disk full: db-1 is at 99% &lt;@U123&gt; &amp; more');
    expect(blocks.map((b) => b.type)).toEqual(['header', 'context', 'section', 'section', 'section']);
    expect(JSON.stringify(blocks[1])).toContain(':rotating_light: *Critical*');
    // untrusted text cannot mention or link
    expect(JSON.stringify(blocks[2])).toContain('&lt;@U123&gt; &amp; more');
    expect(JSON.stringify(blocks[3])).toContain('*host*\\ndb-1');
    expect(JSON.stringify(blocks[4])).toContain('<https://grafana.example.com/d/1|Open link>');
  });

  it('splits long text into sections of at most 3,000 characters', () => {
    const { blocks } = formatAlertMessage({ text: 'x'.repeat(4000), severity: 'info' });
    const sections = blocks.filter((b) => b.type === 'section') as { text: { text: string } }[];
    expect(sections.map((s) => s.text.text.length)).toEqual([3000, 1000]);
    expect(blocks[0]!.type).toBe('context');
  });
});
