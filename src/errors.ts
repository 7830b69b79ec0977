/**
 * Errors as data: every error a client may see has a stable `code` and an HTTP status. The one
 * Express error handler (src/http/error-handler.ts) turns them into `{ error, message, issues? }`.
 */

export type ErrorCode =
  | 'invalid_request'
  | 'token_required'
  | 'api_url_not_allowed'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'name_taken'
  | 'idempotency_key_reused'
  | 'payload_too_large'
  | 'no_recipient'
  | 'rate_limited'
  | 'initialization_not_supported'
  | 'unavailable'
  | 'internal_error';

export interface ValidationIssue {
  path: (string | number)[];
  message: string;
  code?: string;
}

export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    readonly issues?: ValidationIssue[],
    /** sent as Retry-After (seconds) with 429 and 503 answers */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export const invalidRequest = (message: string, issues?: ValidationIssue[]) =>
  new AppError('invalid_request', 400, message, issues);
export const notFound = (message: string) => new AppError('not_found', 404, message);
export const unavailable = (
  message = 'The relay cannot take the write right now; try again shortly.',
  retryAfterSeconds?: number,
) => new AppError('unavailable', 503, message, undefined, retryAfterSeconds);

/** A batch item's error, prefixed with its position, so the client knows which one to fix. */
export function atIndex(error: unknown, index: number): unknown {
  if (!(error instanceof AppError)) return error;
  const issues = error.issues?.map((issue) => ({ ...issue, path: ['alerts', index, ...issue.path] }));
  return new AppError(error.code, error.status, `alerts[${index}]: ${error.message}`, issues, error.retryAfterSeconds);
}
