import { describe, expect, it } from 'vitest';
import { pickToken } from '../../src/slack/token-precedence.js';

const OAUTH_API = 'https://slack.com/api/';
const SUB_API = 'http://127.0.0.1:9999/api/';
const base = { subscriptionApiUrl: SUB_API, oauthApiUrl: OAUTH_API };

describe('pickToken (docs/contract.md §2 precedence)', () => {
  it('prefers a stored OAuth token over a bot token, and sends it only to SLACK_API_URL', () => {
    expect(pickToken({ ...base, oauthToken: 'xoxb-oauth', botToken: 'xoxb-bot' })).toEqual({
      source: 'oauth',
      token: 'xoxb-oauth',
      apiUrl: OAUTH_API,
    });
  });

  it('uses the OAuth token when the bot token is the placeholder', () => {
    expect(pickToken({ ...base, oauthToken: 'xoxb-oauth', botToken: '-' })?.source).toBe('oauth');
  });

  it('falls back to the bot token, sent to the subscription apiUrl', () => {
    expect(pickToken({ ...base, oauthToken: null, botToken: 'xoxb-bot' })).toEqual({
      source: 'bot_token',
      token: 'xoxb-bot',
      apiUrl: SUB_API,
    });
  });

  it('gives nothing for a placeholder bot token without OAuth (the delivery fails not_authorized)', () => {
    expect(pickToken({ ...base, oauthToken: null, botToken: '-' })).toBeNull();
    expect(pickToken({ ...base, oauthToken: null, botToken: '  -  ' })).toBeNull();
  });

  it('treats an empty OAuth token as none', () => {
    expect(pickToken({ ...base, oauthToken: '', botToken: 'xoxb-bot' })?.source).toBe('bot_token');
    expect(pickToken({ ...base, oauthToken: '', botToken: '' })).toBeNull();
  });
});
