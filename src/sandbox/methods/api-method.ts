import type { SandboxState } from '../sandbox-state.js';

/** A Web API request after parsing: merged query and body parameters plus credentials. */
export interface ApiRequest {
  params: Record<string, unknown>;
  token: string | null;
  /** Team of the (valid) token; null for made-up tokens or methods that need none. */
  teamId: string | null;
  /** HTTP basic credentials, which oauth.v2.access accepts for the client id and secret. */
  basicAuth: { user: string; password: string } | null;
}

export interface ApiReply {
  status: number;
  body: Record<string, unknown> | string;
  headers?: Record<string, string>;
}

export interface ApiMethod {
  /** oauth.v2.access authenticates the client, not a token. */
  requiresToken: boolean;
  handle(request: ApiRequest): ApiReply;
}

export type MethodTable = Record<string, ApiMethod>;
export type MethodFactory = (state: SandboxState) => MethodTable;

export function ok(fields: Record<string, unknown> = {}): ApiReply {
  return { status: 200, body: { ok: true, ...fields } };
}

/** Slack reports almost every failure as HTTP 200 with ok:false. */
export function fail(error: string): ApiReply {
  return { status: 200, body: { ok: false, error } };
}

export function rateLimited(retryAfterSeconds: number): ApiReply {
  return {
    status: 429,
    headers: { 'Retry-After': String(retryAfterSeconds) },
    body: { ok: false, error: 'ratelimited' },
  };
}

/**
 * Reads a scalar parameter as a string. Form bodies give strings; JSON bodies
 * may give numbers or booleans, which Slack accepts interchangeably.
 */
export function stringParam(params: Record<string, unknown>, name: string): string | undefined {
  const value = params[name];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}
