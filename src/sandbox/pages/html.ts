import type { Response } from 'express';

/** Markup that is already escaped; everything else interpolated into `html` gets escaped. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);
}

/**
 * Template tag that escapes every interpolated value unless it is SafeHtml, so
 * untrusted message text cannot inject markup. Arrays are joined, and null,
 * undefined and false render nothing (handy for conditionals).
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new SafeHtml(out);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

const STYLE = `
  body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 52rem; padding: 0 1rem; color: #1d1c1d; }
  h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
  .muted { color: #616061; font-size: 0.85rem; }
  .message { border-left: 3px solid #4a154b; padding: 0.25rem 0.75rem; margin: 0.5rem 0; }
  .msg-body { margin: 0.25rem 0; overflow-wrap: anywhere; }
  .edited, .badge { color: #616061; font-size: 0.8rem; }
  .badge { border: 1px solid #ddd; border-radius: 3px; padding: 0 0.3rem; }
  .thread { margin: 0.5rem 0 0.25rem 1.5rem; } .thread .message { border-left-color: #bbb; }
  .version { border-left: 2px dashed #ccc; padding-left: 0.5rem; margin: 0.25rem 0; }
  .bk-header { font-size: 1.2rem; font-weight: 700; margin: 0.2rem 0; }
  .bk-context { color: #616061; font-size: 0.8rem; margin: 0.2rem 0; } .bk-context span + span { margin-left: 0.5rem; }
  .bk-section { display: flex; gap: 0.75rem; margin: 0.3rem 0; } .bk-section-body { flex: 1; }
  .bk-fields { display: grid; grid-template-columns: 1fr 1fr; gap: 0.4rem 1rem; margin-top: 0.3rem; }
  .bk-divider { border: 0; border-top: 1px solid #ddd; margin: 0.5rem 0; }
  .bk-button { display: inline-block; border: 1px solid #bbb; border-radius: 4px; padding: 0.1rem 0.6rem; margin-right: 0.4rem; font-size: 0.85rem; }
  .bk-image { color: #616061; font-style: italic; }
  .mention { background: #e8f5fa; color: #1264a3; border-radius: 3px; padding: 0 0.15rem; }
  .mrkdwn-quote { display: inline-block; border-left: 4px solid #ddd; padding-left: 0.5rem; }
  .mrkdwn-pre { margin: 0.3rem 0; border: 1px solid #ddd; border-radius: 4px; }
  .message code { background: #f6f6f6; border: 1px solid #e2e2e2; border-radius: 3px; padding: 0 0.2rem; color: #c01343; font-size: 0.85em; }
  table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid #ddd; }
  button { font: inherit; padding: 0.5rem 1.25rem; margin-right: 0.5rem; border-radius: 4px; border: 1px solid #aaa; cursor: pointer; }
  button.primary { background: #007a5a; color: white; border-color: #007a5a; }
  pre { background: #f6f6f6; padding: 0.5rem; overflow-x: auto; white-space: pre-wrap; }
`;

/** Wraps a page body in the shared layout. `refreshSeconds` makes the browser reload it (the inbox). */
export function layout(title: string, body: SafeHtml, refreshSeconds?: number): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${refreshSeconds ? html`<meta http-equiv="refresh" content="${refreshSeconds}">` : null}
<title>${title}</title>
<style>${new SafeHtml(STYLE)}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/**
 * Sends a page. The CSP forbids scripts outright: escaping is the first line of
 * defence, this the second. (No form-action rule: the authorize form must be
 * allowed to redirect to the app's redirect_uri.)
 */
export function sendPage(res: Response, page: SafeHtml, status = 200): void {
  res
    .status(status)
    .set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
    .set('X-Content-Type-Options', 'nosniff')
    .type('html')
    .send(page.value);
}
