import type { Config } from '../config.js';
import type { Supervisor } from './supervisor.js';

/**
 * Development only (never with NODE_ENV=production, and outside the Procfile): the Slack sandbox,
 * and a "Sandbox" subscription pointed at it when there are no subscriptions yet, so that the
 * README's first curl delivers a DM a newcomer can see at once.
 */

export async function startDevSandbox(infra: Supervisor, port: number): Promise<string | null> {
  infra.start({ name: 'sandbox', command: `node dist/src/sandbox/main.js --port ${port}` });
  const url = `http://127.0.0.1:${port}`;
  return (await waitFor(`${url}/healthz`, 10_000)) ? url : null;
}

export async function ensureSandboxSubscription(config: Config, sandboxUrl: string): Promise<'created' | 'exists' | 'unavailable'> {
  const relay = `http://127.0.0.1:${config.port}`;
  if (!(await waitFor(`${relay}/readyz`, 60_000))) return 'unavailable';
  const adminKey = config.apiKeys.admin[0];
  if (!adminKey) return 'unavailable';
  const headers = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' };
  const list = (await (await fetch(`${relay}/api/v1/subscriptions`, { headers })).json()) as { subscriptions: unknown[] };
  if (list.subscriptions.length > 0) return 'exists';
  const created = await fetch(`${relay}/api/v1/subscriptions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      name: 'Sandbox',
      version: 'v1.0',
      apiUrl: `${sandboxUrl}/api/`,
      apiToken: 'xoxb-sandbox-0000000000-developmentonly',
      clientId: 'sandbox',
      recipient: 'alice@example.com',
    }),
  });
  return created.status === 201 ? 'created' : 'unavailable';
}

/** Poll until `url` answers 200, or give up after `timeoutMs`. */
export async function waitFor(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}
