import express, { type RequestHandler } from 'express';
import { invalidRequest } from '../errors.js';

/**
 * JSON bodies with docs/contract.md §5's limits: 64 KB for single alerts and subscriptions, 8 MB for batches.
 * A body sent without a JSON content type is refused plainly instead of being read as empty.
 */
export function jsonBody(limit: '64kb' | '8mb'): RequestHandler[] {
  const parse = express.json({ limit, strict: true });
  const requireJson: RequestHandler = (req, _res, next) => {
    if (req.body === undefined) {
      throw invalidRequest('Send a JSON body with "Content-Type: application/json".');
    }
    next();
  };
  return [parse, requireJson];
}
