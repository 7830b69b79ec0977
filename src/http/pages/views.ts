import type { AlertView } from '../../alerts/alert-view.js';
import type { SubscriptionView } from '../../subscriptions/subscription-service.js';
import { html, type SafeHtml } from './html.js';

/** The settings pages' markup. Plain HTML forms: no client-side code, keyboard and phone friendly. */

export type FieldErrors = Record<string, string>;
export type FormValues = Record<string, string>;

const STATUS_BADGE: Record<string, string> = {
  'OAuth Process Complete': 'ok',
  'Bot token': 'ok',
  'Not authorized': 'bad',
  'Re-authorization required': 'bad',
  delivered: 'ok',
  failed: 'bad',
  ok: 'ok',
};
export const badge = (text: string) => html`<span class="badge ${STATUS_BADGE[text] ?? ''}">${text}</span>`;

const PADLOCK = html`<svg class="icon" aria-hidden="true" viewBox="0 0 16 16" width="16" height="16"><path fill="currentColor" d="M4 7V5a4 4 0 1 1 8 0v2h1a1 1 0 0 1 1 1v7a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V8a1 1 0 0 1 1-1h1zm2 0h4V5a2 2 0 1 0-4 0v2z"/></svg>`;

const csrfField = (token: string) => html`<input type="hidden" name="_csrf" value="${token}">`;

/** The padlock: a POST form, so that only the operator's own page can start an OAuth flow. */
export function padlockForm(subscriptionId: string, csrf: string): SafeHtml {
  return html`<form method="post" action="/oauth/start">${csrfField(csrf)}<input type="hidden" name="subscription" value="${subscriptionId}">
<p><button class="padlock" type="submit">${PADLOCK} Authorize with Slack (OAuth)</button></p></form>`;
}

export function notice(text: string | undefined): SafeHtml {
  return text ? html`<p class="card success" role="status">${text}</p>` : html``;
}

export function listPage(subs: SubscriptionView[], counts: Record<string, number>, note?: string): SafeHtml {
  return html`${notice(note)}
<section class="card">
<h1>Subscriptions</h1>
<p>
  ${Object.entries(counts).map(([status, n]) => html`<span class="badge ${STATUS_BADGE[status] ?? ''}">${status}: ${n}</span> `)}
</p>
<p><a class="button" href="/subscriptions/new">New subscription</a> <a class="button secondary" href="/admin/queues">Queue dashboard</a></p>
${subs.length === 0
  ? html`<p>No subscriptions yet. Create one to connect a Slack workspace.</p>`
  : html`<table>
<thead><tr><th>Name</th><th>Authorization</th><th class="optional">Designated member</th><th>Last sync</th></tr></thead>
<tbody>${subs.map((s) => html`<tr>
<td><a href="/subscriptions/${s.id}">${s.name}</a></td>
<td>${badge(s.authorization.status)}</td>
<td class="optional">${s.recipient ?? '—'}</td>
<td>${s.lastSync ? html`${badge(s.lastSync.status)} <small>${s.lastSync.at}</small>` : '—'}</td>
</tr>`)}</tbody>
</table>`}
</section>`;
}

function input(name: string, label: string, values: FormValues, errors: FieldErrors, extra: { help?: string; type?: string; required?: boolean } = {}): SafeHtml {
  const id = `f-${name.replace(/\./g, '-')}`;
  const error = errors[name];
  return html`<div>
<label for="${id}">${label}</label>
<input id="${id}" name="${name}" type="${extra.type ?? 'text'}" value="${values[name] ?? ''}"${extra.required ? html` required` : ''}${error ? html` aria-invalid="true" aria-describedby="${id}-error"` : ''}>
${extra.help ? html`<p class="help">${extra.help}</p>` : ''}
${error ? html`<p class="field-error" id="${id}-error">${error}</p>` : ''}
</div>`;
}

export function subscriptionForm(action: string, values: FormValues, errors: FieldErrors, csrf: string, submit: string): SafeHtml {
  const throttle = (kind: 'initial' | 'ongoing') => html`<fieldset class="grid">
<legend>${kind === 'initial' ? 'Initial transfer (backlog, sent gently)' : 'Ongoing transfer'}</legend>
${input(`throttle.${kind}.limit`, 'Deliveries per window', values, errors, { type: 'number' })}
${input(`throttle.${kind}.seconds`, 'Window (seconds)', values, errors, { type: 'number' })}
${input(`throttle.${kind}.concurrency`, 'In flight at once', values, errors, { type: 'number' })}
</fieldset>`;
  return html`<form method="post" action="${action}" novalidate>
${csrfField(csrf)}
${errors._form ? html`<p class="field-error" role="alert">${errors._form}</p>` : ''}
${input('name', 'Name', values, errors, { required: true })}
${input('version', 'Version', values, errors, { required: true, help: 'The integration version, e.g. v1.0.' })}
${input('apiUrl', 'API URL', values, errors, { required: true, help: 'The Slack Web API; the same URL serves test and production.' })}
${input('apiToken', 'API Token', values, errors, {
  required: true,
  help: 'The Bot User OAuth Token (xoxb-…) of your own Slack app. Enter - if you authorise with OAuth (the padlock). Shown masked; leave it as it is to keep the stored token.',
})}
${input('clientId', 'Client ID', values, errors, { required: true, help: 'Your Slack app’s Client ID. Enter - if you authorise with OAuth.' })}
${input('recipient', 'Designated member', values, errors, { help: 'A Slack user ID (U…), an e-mail address or a name. Alerts may name their own.' })}
${throttle('initial')}
${throttle('ongoing')}
<p><button type="submit">${submit}</button></p>
</form>`;
}

export function settingsPage(d: {
  sub: SubscriptionView;
  alerts: AlertView[];
  syncAlert: AlertView | null;
  oauthConfigured: boolean;
  form: SafeHtml;
  csrf: string;
  note?: string;
}): SafeHtml {
  const { sub, csrf } = d;
  const auth = sub.authorization;
  return html`${notice(d.note)}
<p><a href="/">← Subscriptions</a> · <a href="/admin/queues">Queue dashboard</a></p>
<h1>${sub.name}</h1>
<section class="card" aria-labelledby="auth-h">
<h2 id="auth-h">Authorization</h2>
<p>${badge(auth.status)}${auth.team ? html` in <strong>${auth.team.name || auth.team.id}</strong>` : ''}</p>
${d.oauthConfigured
  ? html`${padlockForm(sub.id, csrf)}
<p class="help">The padlock starts Slack’s OAuth flow. Afterwards this page shows “OAuth Process Complete”, and deliveries use that token before the API Token.</p>`
  : html`<p class="help">${PADLOCK} OAuth is not configured on this relay (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET). Enter a bot token below instead.</p>`}
${auth.method === 'oauth'
  ? html`<form method="post" action="/subscriptions/${sub.id}/authorization/delete">${csrfField(csrf)}<button class="secondary" type="submit">Forget the OAuth token</button></form>`
  : ''}
</section>
<section class="card" aria-labelledby="sync-h">
<h2 id="sync-h">Manual sync</h2>
<p class="help">Checks the token with Slack (auth.test) and sends a test message to the designated member.</p>
<form method="post" action="/subscriptions/${sub.id}/sync">${csrfField(csrf)}<button type="submit">Run manual sync</button></form>
${sub.lastSync
  ? html`<p>Last sync: ${badge(sub.lastSync.status)} at ${sub.lastSync.at}${sub.lastSync.error ? html` — <code>${sub.lastSync.error.code}</code>: ${sub.lastSync.error.message}` : ''}
${d.syncAlert ? html`<br>Test message: ${badge(d.syncAlert.status)}${d.syncAlert.error ? html` <code>${d.syncAlert.error.code}</code>` : ''}` : ''}</p>`
  : html`<p>Never synced.</p>`}
</section>
<section class="card" aria-labelledby="settings-h">
<h2 id="settings-h">Settings</h2>
${d.form}
</section>
<section class="card" aria-labelledby="alerts-h">
<h2 id="alerts-h">Recent alerts</h2>
${d.alerts.length === 0
  ? html`<p>No alerts yet.</p>`
  : html`<table><thead><tr><th>Accepted</th><th>Status</th><th class="optional">Attempts</th><th>Error</th></tr></thead>
<tbody>${d.alerts.map((a) => html`<tr><td><small>${a.createdAt}</small></td><td>${badge(a.status)}</td><td class="optional">${a.attempts}</td><td>${a.error ? html`<code>${a.error.code}</code> ${a.error.message}` : ''}</td></tr>`)}</tbody></table>`}
</section>
<section class="card" aria-labelledby="danger-h">
<h2 id="danger-h">Delete</h2>
<p class="help">Deleting keeps the alert records; alerts still waiting end “failed”.</p>
<form method="post" action="/subscriptions/${sub.id}/delete">${csrfField(csrf)}<button class="secondary" type="submit">Delete subscription</button></form>
</section>`;
}
