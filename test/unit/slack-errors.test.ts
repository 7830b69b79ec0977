import slackWebApi from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { classifySlackError } from '../../src/slack/errors.js';

// the SDK's own error classes, as WebClient throws them
const { WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebAPIRequestError } = slackWebApi;
const platform = (error: string) => new WebAPIPlatformError({ ok: false, error });

describe('classifySlackError (docs/contract.md §4 table)', () => {
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
    expect(classifySlackError(new WebAPIHTTPError(503, 'Service Unavailable', {}))).toMatchObject({ kind: 'transient', code: 'http_503' });
    expect(classifySlackError(new WebAPIHTTPError(404, 'Not Found', {}))).toMatchObject({ kind: 'permanent', code: 'http_404' });
    expect(classifySlackError(new WebAPIRequestError(new Error('ECONNREFUSED')))).toMatchObject({ kind: 'transient', code: 'network_error' });
    expect(classifySlackError(new WebAPIRateLimitedError(3))).toMatchObject({ kind: 'rate_limited', retryAfterMs: 3000 });
  });
});
