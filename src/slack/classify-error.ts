import slackWebApi from '@slack/web-api';

const { ErrorCode } = slackWebApi;

/**
 * Every Slack failure is classified here, once (SPEC §4):
 * - rate_limited: delay the job by Retry-After; the attempt does not count;
 * - transient: retry with exponential backoff, up to DELIVERY_ATTEMPTS;
 * - permanent: fail at once, with the code in the record.
 * A `200 {ok:false}` answer is never a success. An `ok:false` code missing from both tables is
 * taken as permanent: Slack's errors are deterministic answers to the request, and retrying
 * them would only delay the failure the operator needs to see.
 */

export type SlackFailure =
  | { kind: 'rate_limited'; code: 'ratelimited'; message: string; retryAfterMs: number }
  | { kind: 'transient'; code: string; message: string }
  | { kind: 'permanent'; code: string; message: string; reauthorize: boolean };

/** These mark the subscription "Re-authorization required" (SPEC §2). */
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
  missing_scope: 'The token lacks a scope the relay needs (chat:write, im:write, users:read, users:read.email).',
  messages_tab_disabled: "The member's Messages tab is turned off for this app.",
  invalid_auth: 'Slack refused the token; re-authorise the subscription.',
  token_revoked: 'The token was revoked; re-authorise the subscription.',
  account_inactive: 'The token belongs to a deactivated account; re-authorise the subscription.',
  not_authed: 'No token was sent; re-authorise the subscription.',
  not_authorized: 'No token: complete OAuth or enter a bot token.',
  subscription_deleted: 'The subscription was deleted before delivery.',
};

export function permanentFailure(code: string, message = PERMANENT_HINTS[code] ?? code): SlackFailure {
  return { kind: 'permanent', code, message, reauthorize: AUTH_ERRORS.has(code) };
}

export function classifySlackError(error: unknown): SlackFailure {
  const e = error as { code?: string; data?: { error?: string }; retryAfter?: number; statusCode?: number; original?: Error };
  switch (e?.code) {
    case ErrorCode.RateLimitedError:
      return {
        kind: 'rate_limited',
        code: 'ratelimited',
        message: `Slack asked to wait ${e.retryAfter ?? 1} s`,
        retryAfterMs: Math.max(1, e.retryAfter ?? 1) * 1000,
      };
    case ErrorCode.PlatformError: {
      const code = e.data?.error ?? 'unknown_error';
      if (TRANSIENT_ERRORS.has(code)) return { kind: 'transient', code, message: `Slack answered ${code}` };
      return permanentFailure(code);
    }
    case ErrorCode.HTTPError: {
      const status = e.statusCode ?? 0;
      const code = `http_${status}`;
      if (status >= 500 || status === 408) return { kind: 'transient', code, message: `Slack answered HTTP ${status}` };
      return permanentFailure(code, `Slack answered HTTP ${status}; check the subscription's apiUrl`);
    }
    case ErrorCode.RequestError: {
      const original = e.original;
      const timedOut = original?.name === 'TimeoutError' || original?.name === 'AbortError' || /timeout/i.test(original?.message ?? '');
      return timedOut
        ? { kind: 'transient', code: 'request_timeout', message: 'Slack did not answer in time' }
        : { kind: 'transient', code: 'network_error', message: `Could not reach Slack: ${original?.message ?? 'request failed'}` };
    }
    default:
      return { kind: 'transient', code: 'internal_error', message: (error as Error)?.message ?? String(error) };
  }
}
