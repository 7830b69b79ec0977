import slackWebApi from '@slack/web-api';
import { untrustedText } from '../lib/redact.js';
import { EgressError } from './egress-policy.js';

const { WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError } = slackWebApi;

/**
 * Every Slack failure is classified here, once (docs/contract.md §4):
 * - rate_limited (and the relay's own `wait`): delay the job; the attempt does not count;
 * - transient: retry with exponential backoff, up to DELIVERY_ATTEMPTS;
 * - permanent: fail at once, with the code in the record.
 * A `200 {ok:false}` answer is never a success. An `ok:false` code missing from both tables is
 * taken as permanent: Slack's errors are deterministic answers to the request, and retrying
 * them would only delay the failure the operator needs to see.
 *
 * What a remote server answers is untrusted (§6.2): an error code is kept only if it looks like
 * one (`^[a-z0-9_]{1,64}$`, else `invalid_response`), and no message quotes the server; the
 * messages come from the table below or from this process, masked and cut to 300 characters.
 */

export type SlackFailure =
  | { kind: 'rate_limited'; code: 'ratelimited'; message: string; retryAfterMs: number }
  /** not Slack's doing: the relay waits for something of its own (another process refreshing the token) */
  | { kind: 'wait'; code: string; message: string; retryAfterMs: number }
  | { kind: 'transient'; code: string; message: string }
  | { kind: 'permanent'; code: string; message: string; reauthorize: boolean };

/** An outcome the relay decided itself (no token, a lookup that never ended) rather than read from a Slack error. */
export class DeliveryFailure extends Error {
  override name = 'DeliveryFailure';
  constructor(readonly failure: SlackFailure) {
    super(failure.message);
  }
}

/** These mark the subscription "Re-authorization required" (§2). */
export const AUTH_ERRORS = new Set(['invalid_auth', 'token_revoked', 'account_inactive', 'not_authed']);

const TRANSIENT_ERRORS = new Set([
  'internal_error',
  'service_unavailable',
  'request_timeout',
  'fatal_error',
  'ratelimited',
]);

const PERMANENT_HINTS: Record<string, string> = {
  user_not_found: 'The recipient is not a member of this workspace.',
  users_not_found: 'No member of this workspace has that e-mail address.',
  channel_not_found: 'The direct-message channel could not be found.',
  is_archived: 'The channel is archived.',
  msg_too_long: 'The message is too long for Slack.',
  no_text: 'The message has no text.',
  invalid_blocks: 'Slack refused the message blocks.',
  missing_scope: 'The token lacks a scope the relay needs (chat:write, im:write, users:read, users:read.email; im:history to read a DM back after a crash).',
  messages_tab_disabled: "The member's Messages tab is turned off for this app.",
  invalid_auth: 'Slack refused the token; re-authorise the subscription.',
  token_revoked: 'The token was revoked; re-authorise the subscription.',
  account_inactive: 'The token belongs to a deactivated account; re-authorise the subscription.',
  not_authed: 'No token was sent; re-authorise the subscription.',
  not_authorized: 'No token: complete OAuth or enter a bot token.',
  subscription_deleted: 'The subscription was deleted before delivery.',
  invalid_response: 'The API URL answered something that is not a Slack Web API answer; check the subscription’s API URL.',
  egress_refused: 'The API URL resolves to a loopback, private or link-local address, where the relay does not connect.',
  response_too_large: 'The API URL answered with more than 1 MB; the relay refuses such answers.',
  api_url_not_allowed: 'The subscription’s API URL is not in the allowed origins (SLACK_API_URL, ALLOWED_API_URLS).',
  member_lookup_failed: 'The member could not be found by name: users.list did not end within 50 pages or 30 seconds.',
};

const CODE_PATTERN = /^[a-z0-9_]{1,64}$/;

/** A remote server's error code, if it looks like one. */
export function remoteCode(value: unknown): string {
  return typeof value === 'string' && CODE_PATTERN.test(value) ? value : 'invalid_response';
}

/** A Slack id (`U0ALICE`, `D0ALICE`, `T0SANDBOX`) from an answer, if it looks like one. */
export function remoteId(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Z0-9]{2,40}$/.test(value) ? value : undefined;
}

/** A message timestamp (`1764300000.000100`) from an answer, if it looks like one. */
export function remoteTs(value: unknown): string | undefined {
  return typeof value === 'string' && /^\d{1,12}\.\d{1,9}$/.test(value) ? value : undefined;
}

export type PermanentFailure = Extract<SlackFailure, { kind: 'permanent' }>;

export function permanentFailure(code: string, message = PERMANENT_HINTS[code]): PermanentFailure {
  const safeCode = remoteCode(code);
  return {
    kind: 'permanent',
    code: safeCode,
    message: untrustedText(message ?? PERMANENT_HINTS[safeCode] ?? `Slack answered ${safeCode}.`),
    reauthorize: AUTH_ERRORS.has(safeCode),
  };
}

/** Any error of a Slack call, or of the relay around it, as one of the three kinds. */
export function classifySlackError(error: unknown): SlackFailure {
  if (error instanceof DeliveryFailure) return error.failure;
  if (error instanceof WebAPIRateLimitedError) {
    const seconds = Math.min(3600, Math.max(1, Number(error.retryAfter) || 1));
    return { kind: 'rate_limited', code: 'ratelimited', message: `Slack asked to wait ${seconds} s`, retryAfterMs: seconds * 1000 };
  }
  if (error instanceof WebAPIPlatformError) {
    const code = remoteCode(error.data?.error);
    if (TRANSIENT_ERRORS.has(code)) return { kind: 'transient', code, message: `Slack answered ${code}` };
    return permanentFailure(code);
  }
  if (error instanceof WebAPIHTTPError) {
    const status = Number(error.statusCode) || 0;
    const code = `http_${status}`;
    if (status >= 500 || status === 408) return { kind: 'transient', code, message: `Slack answered HTTP ${status}` };
    return permanentFailure(code, `Slack answered HTTP ${status}; check the subscription's apiUrl`);
  }
  if (error instanceof WebAPIRequestError) {
    const original = error.original;
    const refusal = egressRefusal(original);
    if (refusal) return permanentFailure(refusal.code);
    const timedOut = original?.name === 'TimeoutError' || original?.name === 'AbortError' || /timeout/i.test(original?.message ?? '');
    return timedOut
      ? { kind: 'transient', code: 'request_timeout', message: 'Slack did not answer in time' }
      : { kind: 'transient', code: 'network_error', message: untrustedText(`Could not reach Slack: ${networkReason(original)}`) };
  }
  return { kind: 'transient', code: 'internal_error', message: untrustedText((error as Error)?.message ?? error) };
}

/** The egress policy's refusal, wherever in the chain of causes fetch put it ("fetch failed" → cause). */
function egressRefusal(error: unknown): EgressError | undefined {
  for (let cause = error, depth = 0; cause && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
    if (cause instanceof EgressError) return cause;
  }
  return undefined;
}

/** The system error code of a failed connection (ECONNREFUSED, ENOTFOUND…), never a server's words. */
function networkReason(original: Error | undefined): string {
  let cause: unknown = original;
  for (let depth = 0; depth < 4 && cause; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
    cause = (cause as { cause?: unknown }).cause;
  }
  return 'request failed';
}
