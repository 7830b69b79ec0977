import express, { type Request, type Response, type Router } from 'express';
import type { SandboxState } from '../sandbox-state.js';
import { html, layout, sendPage } from './html.js';

interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  state: string | undefined;
  scope: string;
  userScope: string;
  teamId: string;
}

/**
 * Slack's install screen, reduced to what an OAuth flow needs: GET shows the
 * requested scopes with Allow and Deny; the form POSTs back here, and we
 * redirect to the app's redirect_uri with a one-time code or access_denied.
 */
export function createAuthorizeRouter(state: SandboxState): Router {
  const router = express.Router();

  router.get('/oauth/v2/authorize', (req, res) => {
    const request = readAuthorizeRequest(state, Object.fromEntries(new URL(req.originalUrl, 'http://sandbox').searchParams));
    if (typeof request === 'string') return sendError(res, request);
    sendPage(res, consentPage(state, request));
  });

  router.post('/oauth/v2/authorize', express.urlencoded({ extended: false }), (req: Request, res: Response) => {
    // Validated again: the form's hidden fields are as untrusted as the original query.
    const fields = (req.body ?? {}) as Record<string, unknown>;
    const request = readAuthorizeRequest(state, fields);
    if (typeof request === 'string') return sendError(res, request);

    const target = new URL(request.redirectUri);
    if (fields.decision === 'allow') {
      const code = state.codes.issue({ teamId: request.teamId, clientId: request.clientId, redirectUri: request.redirectUri });
      target.searchParams.set('code', code);
    } else {
      target.searchParams.set('error', 'access_denied');
    }
    if (request.state !== undefined) target.searchParams.set('state', request.state);
    state.log(`oauth authorize: ${fields.decision === 'allow' ? 'allowed' : 'denied'} for client ${request.clientId}`);
    res.redirect(302, target.toString());
  });

  return router;
}

/** Returns the request, or an error message for a 400 page. */
function readAuthorizeRequest(state: SandboxState, source: Record<string, unknown>): AuthorizeRequest | string {
  const clientId = text(source.client_id);
  if (!clientId) return 'The request has no client_id.';
  if (state.oauth && clientId !== state.oauth.clientId) return `No app with client_id "${clientId}" is installed in this sandbox.`;
  // Real Slack falls back to the app's configured redirect URL; the sandbox knows no apps, so it must be given.
  const redirectUri = text(source.redirect_uri);
  if (!redirectUri) return 'The request has no redirect_uri.';
  if (!isHttpUrl(redirectUri)) return 'redirect_uri must be an http(s) URL.';
  return {
    clientId,
    redirectUri,
    state: text(source.state),
    scope: text(source.scope) ?? '',
    userScope: text(source.user_scope) ?? '',
    teamId: text(source.team) || state.team.id,
  };
}

function consentPage(state: SandboxState, request: AuthorizeRequest) {
  const scopes = splitScopes(request.scope);
  const userScopes = splitScopes(request.userScope);
  const hidden = (name: string, value: string | undefined) =>
    value === undefined ? null : html`<input type="hidden" name="${name}" value="${value}">`;
  const body = html`
<p class="muted">Slack sandbox · OAuth</p>
<h1>${state.teamFor(request.teamId).name} workspace wants to install the app</h1>
<p>The app <code>${request.clientId}</code> asks for these permissions:</p>
${scopes.length ? html`<ul>${scopes.map((scope) => html`<li><code>${scope}</code></li>`)}</ul>` : html`<p class="muted">(no bot scopes)</p>`}
${userScopes.length ? html`<p>On your behalf:</p><ul>${userScopes.map((scope) => html`<li><code>${scope}</code></li>`)}</ul>` : null}
<p class="muted">Afterwards you go back to <code>${request.redirectUri}</code>.</p>
<form method="post" action="/oauth/v2/authorize">
  ${hidden('client_id', request.clientId)}
  ${hidden('redirect_uri', request.redirectUri)}
  ${hidden('state', request.state)}
  ${hidden('scope', request.scope)}
  ${hidden('user_scope', request.userScope)}
  ${hidden('team', request.teamId)}
  <button class="primary" type="submit" name="decision" value="allow">Allow</button>
  <button type="submit" name="decision" value="deny">Deny</button>
</form>`;
  return layout('Install app · Slack sandbox', body);
}

function sendError(res: Response, message: string): void {
  sendPage(res, layout('Cannot install · Slack sandbox', html`<h1>Cannot install the app</h1><p>${message}</p>`), 400);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function splitScopes(scope: string): string[] {
  return scope.split(/[\s,]+/).filter(Boolean);
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
