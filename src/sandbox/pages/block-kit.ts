import { html, type SafeHtml } from './html.js';
import { type MrkdwnContext, renderMrkdwn, renderPlainText } from './mrkdwn.js';

/**
 * Block Kit drawn roughly as Slack draws it, for the inbox: header, section
 * (text, two-column fields, accessory), context, divider, image and actions.
 * Other block types show as a muted "[type block]" line; the raw JSON stays
 * available beside them. Blocks come from API callers, so every field is
 * checked before use and nothing here throws on odd shapes.
 */
export function renderBlocks(blocks: readonly unknown[], context: MrkdwnContext): SafeHtml {
  return html`<div class="blocks">${blocks.map((block) => renderBlock(block, context))}</div>`;
}

function renderBlock(block: unknown, context: MrkdwnContext): SafeHtml {
  const fields = asRecord(block);
  switch (fields.type) {
    case 'header':
      return html`<div class="bk-header">${textObject(fields.text, context)}</div>`;
    case 'section':
      return section(fields, context);
    case 'context':
      return html`<div class="bk-context">${list(fields.elements).map((element) => html`<span>${contextElement(element, context)}</span>`)}</div>`;
    case 'divider':
      return html`<hr class="bk-divider">`;
    case 'image':
      return html`<div class="bk-image">${imageLabel(fields)}</div>`;
    case 'actions':
      return html`<div class="bk-actions">${list(fields.elements).map((element) => interactive(element, context))}</div>`;
    default:
      return html`<div class="muted">[${typeof fields.type === 'string' ? fields.type : 'unknown'} block]</div>`;
  }
}

function section(fields: Record<string, unknown>, context: MrkdwnContext): SafeHtml {
  const columns = list(fields.fields);
  const accessory = fields.accessory === undefined ? null : html`<div class="bk-accessory">${interactive(fields.accessory, context)}</div>`;
  return html`<div class="bk-section"><div class="bk-section-body">${fields.text === undefined ? null : html`<div>${textObject(fields.text, context)}</div>`}${
    columns.length ? html`<div class="bk-fields">${columns.map((column) => html`<div>${textObject(column, context)}</div>`)}</div>` : null
  }</div>${accessory}</div>`;
}

/** A text object: mrkdwn formatted, plain_text as typed. */
function textObject(value: unknown, context: MrkdwnContext): SafeHtml | string {
  const fields = asRecord(value);
  if (typeof fields.text !== 'string') return '';
  return fields.type === 'mrkdwn' ? renderMrkdwn(fields.text, context) : renderPlainText(fields.text, fields.emoji !== false);
}

function contextElement(value: unknown, context: MrkdwnContext): SafeHtml | string {
  const fields = asRecord(value);
  return fields.type === 'image' ? imageLabel(fields) : textObject(fields, context);
}

/** Buttons, menus and pickers as inert labels: the page runs no script and sends nothing back. */
function interactive(value: unknown, context: MrkdwnContext): SafeHtml {
  const fields = asRecord(value);
  if (fields.type === 'button') return html`<span class="bk-button">${textObject(fields.text, context)}</span>`;
  if (fields.type === 'image') return html`<span class="bk-image">${imageLabel(fields)}</span>`;
  const placeholder = fields.placeholder === undefined ? '' : textObject(fields.placeholder, context);
  return html`<span class="bk-button">[${typeof fields.type === 'string' ? fields.type : 'element'}] ${placeholder}</span>`;
}

/** Images are not loaded (the page's CSP allows none); their alt text stands in. */
function imageLabel(fields: Record<string, unknown>): string {
  const alt = typeof fields.alt_text === 'string' && fields.alt_text !== '' ? fields.alt_text : 'image';
  return `🖼 ${alt}`;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
