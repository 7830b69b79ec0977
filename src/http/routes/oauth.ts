import express, { Router, type RequestHandler, type Response } from 'express';
import slackOAuth from '@slack/oauth';
import type { SubscriptionStore } from '../../db/stores.js';
import { OAUTH_SCOPES, redirectUri, type Installer } from '../../slack/oauth/installer.js';
import { remoteCode } from '../../slack/errors.js';
import { untrustedText } from '../../lib/redact.js';
import { messagePage, sendPage } from '../pages/layout.js';
import type { Csrf } from '../pages/csrf.js';
import type { Logger } from '../../lib/logger.js';
import { html } from '../pages/html.js';
import { padlockForm } from '../pages/views.js';
import { refuseCrossSite } from '../same-site.js';

const { ErrorCode } = slackOAuth;

/**
 * The padlock (`POST /oauth/start`, admin only, CSRF-checked: it starts a flow and sets a cookie)
 * and Slack's redirect back (`/oauth/callback`). `GET /oauth/start` only shows the padlock's form.
 * Every refusal is a 4xx page that says what happened and what to do, never the library's 500
 * page, and stores nothing.
 */
export function oauthRoutes(deps: {
  installer: Installer | null;
  subscriptions: SubscriptionStore;
  publicUrl: string;
  requireAdmin: RequestHandler;
  csrf: Csrf;
  logger: Logger;
}): Router {
  const router = Router();
  const settings = (id: string) => ({ href: `/subscriptions/${encodeURIComponent(id)}`, label: 'Back to the subscription' });
  const home = { href: '/', label: 'Back to the subscriptions' };

  /** The reason the padlock cannot start, as a page, or null when it can. */
  const refusal = async (res: Response, id: string): Promise<boolean> => {
    if (!deps.installer) {
      messagePage(res, 400, {
        title: 'OAuth is not configured',
        message:
          'This relay has no Slack app of its own. Set SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET ' +
          '(see the README), or enter a bot token in the subscription instead.',
        next: id ? settings(id) : home,
      });
      return true;
    }
    if (!id || !(await deps.subscriptions.get(id))) {
      messagePage(res, 404, { title: 'No such subscription', message: 'Start OAuth from a subscription’s settings.', next: home });
      return true;
    }
    return false;
  };

  // A bookmarked or typed padlock link changes nothing: it shows the form that does.
  router.get('/oauth/start', deps.requireAdmin, async (req, res) => {
    const id = typeof req.query.subscription === 'string' ? req.query.subscription : '';
    if (await refusal(res, id)) return;
    sendPage(res, 200, 'Authorize with Slack', html`<section class="card">
<h1>Authorize with Slack</h1>
<p>The relay will send you to Slack to approve its app for this subscription.</p>
${padlockForm(id, deps.csrf.token())}
</section>`);
  });

  router.post('/oauth/start', deps.requireAdmin, refuseCrossSite, express.urlencoded({ extended: false, limit: '4kb' }), deps.csrf.protect(), async (req, res) => {
    const id = typeof req.body?.subscription === 'string' ? (req.body.subscription as string) : '';
    if (await refusal(res, id)) return;
    await deps.installer!.handleInstallPath(req, withSameSiteCookies(res), {}, {
      scopes: OAUTH_SCOPES,
      redirectUri: redirectUri(deps.publicUrl),
      metadata: id,
    });
  });

  router.get('/oauth/callback', async (req, res) => {
    if (!deps.installer) {
      return messagePage(res, 400, { title: 'OAuth is not configured', message: 'This relay has no Slack app of its own.', next: home });
    }
    await deps.installer.handleCallback(req, withSameSiteCookies(res), {
      beforeInstallation: async (options, _req, response) => {
        if (options.metadata && (await deps.subscriptions.get(options.metadata))) return true;
        messagePage(response as never, 404, {
          title: 'Subscription not found',
          message: 'The subscription this authorization was started for no longer exists. Nothing was stored.',
          next: home,
        });
        return false;
      },
      success: (installation, _options, _req, response) => {
        const id = installation.metadata ?? '';
        messagePage(response as never, 200, {
          title: 'Authorization Complete',
          message: `The relay may now send direct messages in ${installation.team?.name ? untrustedText(installation.team.name, 100) : 'your workspace'}. The subscription shows “OAuth Process Complete”.`,
          next: settings(id),
        });
      },
      failure: (error, options, _req, response) => {
        const [status, page] = describeFailure(error as Error & { code?: string });
        // the library's own log lines are dropped (they quote Slack); this says what happened, typed
        const slackError = (error as { data?: { error?: unknown } }).data?.error;
        deps.logger.warn(
          { component: 'oauth', subscriptionId: options.metadata, reason: (error as { code?: string }).code, slackError: slackError === undefined ? undefined : remoteCode(slackError), status },
          'OAuth authorization refused',
        );
        messagePage(response as never, status, { ...page, next: options.metadata ? settings(options.metadata) : home });
      },
    });
  });
  return router;
}

function describeFailure(error: Error & { code?: string }): [number, { title: string; message: string }] {
  switch (error.code) {
    case ErrorCode.AuthorizationError:
      return [403, { title: 'Authorization cancelled', message: 'Access was not granted in Slack, so nothing was stored. Click the padlock again to retry.' }];
    case ErrorCode.InvalidStateError:
    case ErrorCode.MissingStateError:
      return [400, {
        title: 'Authorization link not valid',
        message: `${error.message.startsWith('The state parameter is not for this browser') ? 'This authorization was started in another browser, or its cookie is missing (it needs HTTPS or localhost).' : error.message} Nothing was stored. Start again from the padlock; links expire after 10 minutes and work once.`
      }];
    case ErrorCode.MissingCodeError:
      return [400, { title: 'Authorization incomplete', message: 'Slack sent no authorization code. Nothing was stored. Start again from the padlock.' }];
    default: {
      const answered = (error as { data?: { error?: unknown } }).data?.error;
      const slackError = answered === undefined ? undefined : remoteCode(answered);
      return [400, {
        title: 'Authorization failed',
        message: `Slack refused the exchange${slackError ? ` (${slackError})` : ''}. Nothing was stored. Start again from the padlock; if it keeps failing, check SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and the app’s redirect URL.`
      }];
    }
  }
}

/**
 * @slack/oauth sets its state cookie `Secure; HttpOnly` but without `SameSite`: add `Lax`, which
 * still lets Slack's top-level redirect back carry it, and keeps it off cross-site subrequests.
 */
function withSameSiteCookies(res: Response): Response {
  const setHeader = res.setHeader.bind(res);
  const lax = (cookie: string) => (/;\s*samesite=/i.test(cookie) ? cookie : `${cookie}; SameSite=Lax`);
  res.setHeader = ((name: string, value: number | string | readonly string[]) =>
    setHeader(name, name.toLowerCase() === 'set-cookie' ? (Array.isArray(value) ? value.map(lax) : lax(String(value))) : value)) as Response['setHeader'];
  return res;
}
