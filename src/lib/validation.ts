import type { z } from 'zod';
import { invalidRequest } from '../errors.js';

/** Parse untrusted input; a violation becomes 400 `invalid_request` with zod's issues. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part)),
    message: issue.message,
    code: issue.code,
  }));
  const first = issues[0];
  const where = first && first.path.length > 0 ? `${first.path.join('.')}: ` : '';
  throw invalidRequest(`Invalid request: ${where}${first?.message ?? 'malformed input'}`, issues);
}
