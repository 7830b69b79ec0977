import type { SandboxMessageMetadata } from '../types.js';

/** Slack's limit for a message's `text` (chat.postMessage and chat.update answer msg_too_long past it). */
export const MAX_TEXT_LENGTH = 40_000;
const MAX_BLOCKS = 50;

/**
 * Event types may hold letters, digits, underscores and hyphens; Slack answers
 * other types with an invalid_metadata_schema *warning* and drops the metadata
 * (docs.slack.dev/messaging/message-metadata, "Defining metadata").
 */
const EVENT_TYPE = /^[A-Za-z0-9_-]+$/;

/**
 * What a post's legacy `attachments` show as text (their pretext, title and text, or else their
 * fallback), as Slack shows them in a notification; '' when there are none. Alertmanager's
 * `slack_configs` post attachments and nothing else.
 */
export function attachmentsText(raw: unknown): string | 'invalid' {
  const attachments = decodedList(raw, MAX_ATTACHMENTS);
  if (attachments === null) return '';
  if (attachments === 'invalid' || !attachments.every((a) => typeof a === 'object' && a !== null && !Array.isArray(a))) return 'invalid';
  const field = (a: Record<string, unknown>, name: string) => (typeof a[name] === 'string' ? (a[name] as string) : '');
  return (attachments as Record<string, unknown>[])
    .map((a) => [field(a, 'pretext'), field(a, 'title'), field(a, 'text')].filter((v) => v !== '').join('\n') || field(a, 'fallback'))
    .filter((v) => v !== '')
    .join('\n');
}

/** Slack takes at most 100 attachments on a message. */
const MAX_ATTACHMENTS = 100;

/**
 * A list parameter (blocks, attachments): JSON-encoded in form bodies, an array in JSON bodies;
 * null when absent, 'invalid' when it is not a list of at most `max` items.
 */
function decodedList(raw: unknown, max: number): unknown[] | null | 'invalid' {
  if (raw === undefined || raw === '') return null;
  let list: unknown = raw;
  if (typeof raw === 'string') {
    try {
      list = JSON.parse(raw);
    } catch {
      return 'invalid';
    }
  }
  return Array.isArray(list) && list.length <= max ? list : 'invalid';
}

export function parseBlocks(raw: unknown): unknown[] | null | 'invalid' {
  const blocks = decodedList(raw, MAX_BLOCKS);
  if (blocks === null || blocks === 'invalid') return blocks;
  const wellFormed = blocks.every(
    (block) => typeof block === 'object' && block !== null && typeof (block as { type?: unknown }).type === 'string',
  );
  return wellFormed ? blocks : 'invalid';
}

export type ParsedMetadata =
  | { kind: 'absent' }
  /** `{}`: chat.update removes the message's metadata; a new post simply has none. */
  | { kind: 'empty' }
  | { kind: 'valid'; metadata: SandboxMessageMetadata }
  /** Accepted call, metadata dropped, and a warning in the answer. */
  | { kind: 'dropped'; warning: 'invalid_metadata_schema' }
  | { kind: 'error'; error: 'invalid_metadata_format' | 'invalid_metadata_schema' };

/**
 * Reads `metadata` as Slack does: a JSON-encoded object in form bodies, an
 * object in JSON bodies. Not JSON, or not an object: invalid_metadata_format.
 * An object without a string event_type and an object event_payload:
 * invalid_metadata_schema. No size limit is modelled (Slack documents none).
 */
export function parseMetadata(raw: unknown): ParsedMetadata {
  if (raw === undefined || raw === '') return { kind: 'absent' };
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return { kind: 'error', error: 'invalid_metadata_format' };
    }
  }
  if (!isPlainObject(value)) return { kind: 'error', error: 'invalid_metadata_format' };
  if (Object.keys(value).length === 0) return { kind: 'empty' };
  const { event_type: eventType, event_payload: eventPayload } = value;
  if (typeof eventType !== 'string' || eventType === '' || !isPlainObject(eventPayload)) {
    return { kind: 'error', error: 'invalid_metadata_schema' };
  }
  if (!EVENT_TYPE.test(eventType)) return { kind: 'dropped', warning: 'invalid_metadata_schema' };
  return { kind: 'valid', metadata: { event_type: eventType, event_payload: eventPayload } };
}

/** Slack's boolean arguments: `true`/`1` from forms or query strings, or a JSON boolean. */
export function flagParam(params: Record<string, unknown>, name: string): boolean {
  const value = params[name];
  return value === true || value === 1 || value === 'true' || value === '1';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
