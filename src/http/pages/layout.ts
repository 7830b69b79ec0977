import type { Response } from 'express';
import { html, type SafeHtml } from './html.js';

/** The frame of every page: no scripts, one stylesheet (/assets/relay.css). */
export function layout(title: string, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Slack Alert Relay</title>
<link rel="stylesheet" href="/assets/relay.css">
</head>
<body>
<header class="top"><a href="/" class="brand">Slack Alert Relay</a></header>
<main>
${body}
</main>
</body>
</html>`;
}

export function sendPage(res: Response, status: number, title: string, body: SafeHtml): void {
  res.status(status).type('html').send(layout(title, body).value);
}

/** A page that says what happened and what to do next. */
export function messagePage(
  res: Response,
  status: number,
  { title, message, next }: { title: string; message: string; next?: { href: string; label: string } },
): void {
  sendPage(
    res,
    status,
    title,
    html`<section class="card ${status >= 400 ? 'error' : 'success'}">
<h1>${title}</h1>
<p>${message}</p>
${next ? html`<p><a class="button" href="${next.href}">${next.label}</a></p>` : ''}
</section>`,
  );
}
