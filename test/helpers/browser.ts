/**
 * A tiny browser for HTTP-level flow tests: a cookie jar (by name; attributes other than expiry
 * are ignored), manual redirects, and optional basic auth for the relay's admin pages.
 */
export class Browser {
  readonly cookies = new Map<string, string>();

  constructor(private readonly basicAuth?: { user: string; password: string }) {}

  async get(url: string, options: { auth?: boolean } = {}): Promise<Response> {
    return this.request(url, { method: 'GET' }, options.auth);
  }

  async postForm(url: string, fields: Record<string, string>, options: { auth?: boolean } = {}): Promise<Response> {
    return this.request(
      url,
      { method: 'POST', body: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      options.auth,
    );
  }

  private async request(url: string, init: RequestInit, auth = false): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    if (auth && this.basicAuth) {
      headers.set('authorization', `Basic ${Buffer.from(`${this.basicAuth.user}:${this.basicAuth.password}`).toString('base64')}`);
    }
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const [name, ...rest] = pair!.split('=');
      const expired = attributes.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a) || /^\s*max-age=0\s*$/i.test(a));
      if (expired) this.cookies.delete(name!.trim());
      else this.cookies.set(name!.trim(), rest.join('=').trim());
    }
    return res;
  }
}

/** The hidden inputs of the first form on a page, as a browser would submit them. */
export function formFields(page: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[match[1]!] = match[2]!.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
  }
  return fields;
}

/**
 * Click a subscription's padlock: the operator's page holds a CSRF-protected POST form (GET
 * /oauth/start shows the same form). Answers the relay's redirect to Slack's authorize page.
 */
export async function clickPadlock(browser: Browser, webUrl: string, subscriptionId: string): Promise<Response> {
  const form = await browser.get(`${webUrl}/oauth/start?subscription=${subscriptionId}`, { auth: true });
  if (form.status !== 200) return form;
  return browser.postForm(`${webUrl}/oauth/start`, formFields(await form.text()), { auth: true });
}
