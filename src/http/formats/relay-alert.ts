import { z } from 'zod';
import { ALERT_EVENTS, alertMessageSchema, storableText, TRANSFERS, type AlertInput } from '../../domain.js';
import { AppError, atIndex } from '../../errors.js';
import { parseInput } from '../../lib/validation.js';

/**
 * The relay's own alert body (docs/contract.md §3), for `POST /api/v1/alerts` and `/alerts/batch`:
 * parsed at the edge into typed alert inputs; intake never sees the body.
 */

// No control characters: the key a batch derives for an item uses one, so it can collide with no key sent.
export const idempotencyKeySchema = storableText()
  .trim()
  .min(1)
  .max(200)
  .refine((key) => !/[\u0000-\u001f\u007f]/.test(key), 'must not contain control characters');

/** One condition's key (§6.4): 1–255 characters. */
export const dedupKeySchema = storableText().trim().min(1).max(255);

/** The key of item `index` of a batch sent with the Idempotency-Key `header`. */
const derivedKey = (header: string, index: number) => `${header}\u001f${index}`;

const alertBodySchema = z.strictObject({
  ...alertMessageSchema.shape,
  subscription: storableText().trim().min(1).max(200),
  recipient: storableText().trim().min(1).max(254).optional(),
  transfer: z.enum(TRANSFERS).default('ongoing'),
  idempotencyKey: idempotencyKeySchema.optional(),
  dedupKey: dedupKeySchema.optional(),
  status: z.enum(ALERT_EVENTS).default('firing'),
});

const batchBodySchema = z.strictObject({
  alerts: z.array(z.unknown()).min(1, 'at least one alert').max(1000, 'at most 1,000 alerts'),
});

function toInput(body: z.output<typeof alertBodySchema>): AlertInput {
  const { subscription, recipient, transfer, idempotencyKey, dedupKey, status, title, text, severity, fields, link } = body;
  return { subscription, recipient, transfer, idempotencyKey, dedupKey, event: status, message: { title, text, severity, fields, link } };
}

/** One alert; the Idempotency-Key header, when sent, wins over the body's key. */
export function parseAlertBody(body: unknown, headerKey: string | undefined): AlertInput {
  const input = toInput(parseInput(alertBodySchema, body));
  const header = parseHeaderKey(headerKey);
  if (header !== undefined) input.idempotencyKey = header;
  return input;
}

/** A batch, all-or-nothing; a header key derives a key for every item without one. */
export function parseBatchBody(body: unknown, headerKey: string | undefined): AlertInput[] {
  const { alerts } = parseInput(batchBodySchema, body);
  const header = parseHeaderKey(headerKey);
  return alerts.map((item, index) => {
    try {
      const input = toInput(parseInput(alertBodySchema, item));
      input.idempotencyKey ??= header && derivedKey(header, index);
      return input;
    } catch (error) {
      throw atIndex(error, index);
    }
  });
}

function parseHeaderKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const parsed = idempotencyKeySchema.safeParse(header);
  if (!parsed.success) {
    throw new AppError('invalid_request', 400, 'The Idempotency-Key header must have 1 to 200 characters and no control characters.');
  }
  return parsed.data;
}
