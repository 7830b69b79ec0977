import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, invalidRequest } from '../errors.js';
import type { Logger } from '../lib/logger.js';
import { DatabaseUnavailableError } from '../db/stores.js';

/**
 * The one place that maps errors to HTTP: AppErrors keep their code and status; body-parser and
 * database-unavailable errors get their docs/contract.md §5 codes; anything else is a 500 without
 * internals.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const appError = toAppError(error);
    if (appError.code === 'internal_error') {
      logger.error({ err: error instanceof Error ? error.stack : String(error), path: req.path }, 'request failed');
    } else if (appError.code === 'unavailable') {
      logger.warn({ path: req.path, reason: error instanceof Error ? error.message : String(error) }, 'answered 503');
    }
    if (res.headersSent) return;
    if (appError.retryAfterSeconds !== undefined) res.set('Retry-After', String(appError.retryAfterSeconds));
    const body: Record<string, unknown> = { error: appError.code, message: appError.message };
    if (appError.issues) body.issues = appError.issues;
    res.status(appError.status).json(body);
  };
}

function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const e = error as { type?: string; status?: number; code?: string; limit?: number };
  if (e?.type === 'entity.too.large') {
    return new AppError('payload_too_large', 413, `The body is larger than ${e.limit ?? 'the limit'} bytes.`);
  }
  if (e?.type === 'entity.parse.failed') return invalidRequest('The body is not valid JSON.');
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return invalidRequest('The body must be UTF-8 JSON.');
  }
  if (error instanceof DatabaseUnavailableError) {
    return new AppError('unavailable', 503, 'The database cannot take the request right now; try again shortly.', undefined, 1);
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return invalidRequest('The request could not be read.');
  }
  return new AppError('internal_error', 500, 'Something went wrong on our side; it has been logged.');
}

export const notFoundHandler: RequestHandler = (req) => {
  throw new AppError('not_found', 404, `No route ${req.method} ${req.path}.`);
};
