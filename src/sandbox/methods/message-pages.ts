import type { SandboxMessage } from '../types.js';
import { stringParam } from './api-method.js';
import { flagParam } from './message-content.js';

/** Slack's cursors for message lists are base64 of `next_ts:<ts>`, naming the first message of the next page. */
const CURSOR_PREFIX = 'next_ts:';
const TS = /^\d+(\.\d+)?$/;

export interface PageOptions {
  /** The order `messages` come in, which is the order of the answer. */
  order: 'newest-first' | 'oldest-first';
  defaultLimit: number;
  maxLimit: number;
}

export type MessagePage =
  | { ok: true; messages: SandboxMessage[]; hasMore: boolean; nextCursor: string }
  | { ok: false; error: 'invalid_cursor' | 'invalid_ts_latest' | 'invalid_ts_oldest' };

/**
 * One page of `messages` (newest first for conversations.history, oldest first
 * for conversations.replies), cut to
 * `oldest`/`latest` (exclusive unless `inclusive`) and resumed at `cursor`.
 * A missing `latest` means no upper bound rather than "now", so a message
 * posted in the current millisecond is never left out.
 */
export function pageOfMessages(messages: readonly SandboxMessage[], params: Record<string, unknown>, options: PageOptions): MessagePage {
  const oldest = readTs(stringParam(params, 'oldest'));
  if (oldest === 'invalid') return { ok: false, error: 'invalid_ts_oldest' };
  const latest = readTs(stringParam(params, 'latest'));
  if (latest === 'invalid') return { ok: false, error: 'invalid_ts_latest' };
  const inclusive = flagParam(params, 'inclusive');
  const inRange = messages.filter((message) => {
    const at = micros(message.ts);
    const afterOldest = oldest === null || at > oldest || (inclusive && at === oldest);
    const beforeLatest = latest === null || at < latest || (inclusive && at === latest);
    return afterOldest && beforeLatest;
  });

  let start = 0;
  const cursor = stringParam(params, 'cursor');
  if (cursor) {
    const from = decodeCursor(cursor);
    if (from === null) return { ok: false, error: 'invalid_cursor' };
    const newestFirst = options.order === 'newest-first';
    const index = inRange.findIndex((message) => (newestFirst ? micros(message.ts) <= from : micros(message.ts) >= from));
    start = index < 0 ? inRange.length : index;
  }
  const limit = pageSize(stringParam(params, 'limit'), options);
  const next = inRange[start + limit];
  return {
    ok: true,
    messages: inRange.slice(start, start + limit),
    hasMore: next !== undefined,
    nextCursor: next ? Buffer.from(`${CURSOR_PREFIX}${next.ts}`).toString('base64') : '',
  };
}

/** Slack treats a missing or zero limit as its default and caps large ones. */
function pageSize(raw: string | undefined, limits: PageOptions): number {
  const limit = Number.parseInt(raw ?? '', 10);
  if (!Number.isFinite(limit) || limit <= 0) return limits.defaultLimit;
  return Math.min(limit, limits.maxLimit);
}

function readTs(raw: string | undefined): bigint | null | 'invalid' {
  if (raw === undefined || raw === '') return null;
  return TS.test(raw) ? micros(raw) : 'invalid';
}

function decodeCursor(cursor: string): bigint | null {
  const decoded = Buffer.from(cursor, 'base64').toString('utf8');
  if (!decoded.startsWith(CURSOR_PREFIX)) return null;
  const ts = decoded.slice(CURSOR_PREFIX.length);
  return TS.test(ts) ? micros(ts) : null;
}

/** Timestamps compared exactly: as doubles, 16 significant digits would be at the edge of precision. */
function micros(ts: string): bigint {
  const [seconds = '0', fraction = ''] = ts.split('.');
  return BigInt(seconds) * 1_000_000n + BigInt(fraction.slice(0, 6).padEnd(6, '0'));
}
