import { APP_ID, type SandboxState } from '../sandbox-state.js';
import type { IssuedTokens } from '../token-registry.js';
import { type ApiReply, type ApiRequest, fail, type MethodFactory, ok, stringParam } from './api-method.js';

export const GRANTED_SCOPES = 'chat:write,im:write,im:history,users:read,users:read.email';

export const oauthMethods: MethodFactory = (state) => ({
  'oauth.v2.access': {
    requiresToken: false,
    handle: (request) => {
      const client = authenticateClient(state, request);
      if (typeof client !== 'string') return client;
      const { params } = request;

      if (stringParam(params, 'grant_type') === 'refresh_token') {
        const refreshToken = stringParam(params, 'refresh_token');
        const issued = refreshToken ? state.tokens.refresh(refreshToken) : null;
        return issued ? installation(state, issued, false) : fail('invalid_refresh_token');
      }

      const redeemed = state.codes.redeem(stringParam(params, 'code') ?? '', client, stringParam(params, 'redirect_uri'));
      if (!redeemed.ok) return fail(redeemed.error);
      const issued = state.tokens.issue({
        teamId: redeemed.grant.teamId,
        rotate: state.oauth?.rotateTokens ?? false,
        ttlSeconds: state.oauth?.tokenTtlSeconds ?? 0,
      });
      return installation(state, issued, true);
    },
  },
});

/**
 * Slack prefers HTTP basic auth for the client credentials and also takes
 * client_id/client_secret fields. Without configured oauth options any client
 * is welcome, but it still has to send an id and a secret.
 * Returns the client id, or the error reply.
 */
function authenticateClient(state: SandboxState, { params, basicAuth }: ApiRequest): string | ApiReply {
  const clientId = basicAuth?.user ?? stringParam(params, 'client_id');
  const clientSecret = basicAuth?.password ?? stringParam(params, 'client_secret');
  if (!clientId || (state.oauth && clientId !== state.oauth.clientId)) return fail('invalid_client_id');
  if (!clientSecret || (state.oauth && clientSecret !== state.oauth.clientSecret)) return fail('bad_client_secret');
  return clientId;
}

/** The oauth.v2.access success shape; refresh answers leave out the installing user, as Slack's do. */
function installation(state: SandboxState, issued: IssuedTokens, withInstaller: boolean): ApiReply {
  // The installer is the first member (U0ALICE by default), so it exists in custom user sets too.
  const installer = state.users.all()[0]?.id ?? 'U0ALICE';
  return ok({
    app_id: APP_ID,
    ...(withInstaller ? { authed_user: { id: installer } } : {}),
    scope: GRANTED_SCOPES,
    token_type: 'bot',
    access_token: issued.accessToken,
    bot_user_id: state.botUserId,
    team: state.teamFor(issued.teamId),
    enterprise: null,
    is_enterprise_install: false,
    ...(issued.refreshToken ? { refresh_token: issued.refreshToken, expires_in: issued.expiresIn } : {}),
  });
}
