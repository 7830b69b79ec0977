import { describe, expect, it } from 'vitest';
import { startSandbox, webClient } from './helpers.js';

describe('Slack sandbox pages', () => {
  it('lists received DMs per member with their text escaped', async () => {
    const sandbox = await startSandbox();
    const client = webClient(sandbox);
    await client.chat.postMessage({ channel: 'U0BOB', text: '<script>alert("pwned")</script> & <b>bold</b>' });
    await client.chat.postMessage({ channel: 'U0ALICE', text: 'older for alice' });
    await client.chat.postMessage({ channel: 'U0ALICE', text: 'newer for alice' });

    const response = await fetch(`${sandbox.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const page = await response.text();
    expect(page).not.toContain('<script>');
    expect(page).not.toContain('<b>bold</b>');
    expect(page).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;');
    // Newest first: alice (latest message) before bob, and alice's newer message before her older one.
    expect(page.indexOf('Alice Archer')).toBeLessThan(page.indexOf('Bob Baker'));
    expect(page.indexOf('newer for alice')).toBeLessThan(page.indexOf('older for alice'));
    expect(page).toContain('carol@example.com'); // the members table
  });

  it('serves messages.json and healthz', async () => {
    const sandbox = await startSandbox();
    await webClient(sandbox).chat.postMessage({ channel: 'U0BOB', text: 'hello', blocks: [{ type: 'divider' }] });
    const json = (await (await fetch(`${sandbox.url}/messages.json`)).json()) as { messages: unknown[] };
    expect(json.messages).toEqual([expect.objectContaining({ user: 'U0BOB', channel: 'D0BOB', text: 'hello', blocks: [{ type: 'divider' }] })]);
    expect((await fetch(`${sandbox.url}/healthz`)).status).toBe(200);
  });
});
