import { randomBytes } from 'node:crypto';

/** A JSON client for the relay's API, shared by the in-process and the real-process harnesses. */

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export type Api = <T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<ApiResponse<T>>;

export function apiClient(baseUrl: () => string, apiKey: string): Api {
  return async (method, path, body, headers = {}) => {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${apiKey}`, ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${baseUrl()}${path}`, init);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as any, text, headers: res.headers };
  };
}

/** A bot-token subscription pointed at `apiUrl` (a sandbox), with a random name. */
export async function createSubscription(api: Api, defaults: { apiUrl: string; apiToken: string }, overrides: Record<string, unknown> = {}) {
  const res = await api('POST', '/api/v1/subscriptions', {
    name: `Sub ${randomBytes(4).toString('hex')}`,
    version: 'v1.0',
    clientId: '1234567890.0987654321',
    recipient: 'U0ALICE',
    ...defaults,
    ...overrides,
  });
  if (res.status !== 201) throw new Error(`create subscription: ${res.status} ${res.text}`);
  return res.body;
}

/** Poll an alert's record until its status is one of `statuses`. */
export async function waitForAlert(api: Api, id: string, statuses = ['delivered', 'failed'], timeoutMs = 10_000, context = () => '') {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < deadline) {
    last = (await api('GET', `/api/v1/alerts/${id}`)).body;
    if (statuses.includes(last?.status)) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`alert ${id} did not reach ${statuses.join('|')} within ${timeoutMs} ms; last: ${JSON.stringify(last)}\n${context()}`);
}

/** Whether a process still exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
