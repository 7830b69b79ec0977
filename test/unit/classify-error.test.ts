import slackWebApi from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { classifySlackError } from '../../src/slack/classify-error.js';

const { ErrorCode } = slackWebApi;
const platform = (error: string) => ({ code: ErrorCode.PlatformError, data: { ok: false, error } });

describe('classifySlackError (SPEC §4 table)', () => {
  it.each(['user_not_found', 'users_not_found', 'channel_not_found', 'is_archived', 'msg_too_long', 'no_text',
    'invalid_blocks', 'missing_scope', 'messages_tab_disabled', 'invalid_auth', 'token_revoked',
    'account_inactive', 'not_authed'])('%s is permanent', (code) => {
    expect(classifySlackError(platform(code))).toMatchObject({ kind: 'permanent', code });
  });

  it.each(['internal_error', 'service_unavailable', 'request_timeout', 'fatal_error'])('%s is transient', (code) => {
    expect(classifySlackError(platform(code))).toMatchObject({ kind: 'transient', code });
  });

  it('marks auth errors for re-authorization', () => {
    expect(classifySlackError(platform('token_revoked'))).toMatchObject({ reauthorize: true });
    expect(classifySlackError(platform('user_not_found'))).toMatchObject({ reauthorize: false });
  });

  it('treats 5xx and network errors as transient, 4xx as permanent, 429 as a delay', () => {
    expect(classifySlackError({ code: ErrorCode.HTTPError, statusCode: 503 })).toMatchObject({ kind: 'transient', code: 'http_503' });
    expect(classifySlackError({ code: ErrorCode.HTTPError, statusCode: 404 })).toMatchObject({ kind: 'permanent', code: 'http_404' });
    expect(classifySlackError({ code: ErrorCode.RequestError, original: new Error('ECONNREFUSED') })).toMatchObject({ kind: 'transient', code: 'network_error' });
    expect(classifySlackError({ code: ErrorCode.RateLimitedError, retryAfter: 3 })).toMatchObject({ kind: 'rate_limited', retryAfterMs: 3000 });
  });
});
