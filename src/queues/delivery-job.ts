import { z } from 'zod';

/**
 * What a delivery job carries: ids and the message, never a token (the worker reads and decrypts
 * the token at delivery time). Defined once, parsed again by the worker before use.
 */

export const SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;

export const alertMessageSchema = z.object({
  title: z.string().trim().min(1).max(150).optional(),
  text: z.string().min(1).max(4000).refine((text) => text.trim() !== '', 'must not be blank'),
  severity: z.enum(SEVERITIES).default('info'),
  fields: z
    .record(z.string().min(1).max(50), z.string().max(500))
    .refine((fields) => Object.keys(fields).length <= 10, 'at most 10 fields')
    .optional(),
  link: z.url({ protocol: /^https?$/ }).max(2000).optional(),
});

export const deliveryJobSchema = z.object({
  alertId: z.string().min(1),
  subscriptionId: z.string().min(1),
  recipient: z.string().min(1),
  message: alertMessageSchema,
});

export type DeliveryJob = z.infer<typeof deliveryJobSchema>;

/** Job names show subscription and recipient in Bull Board; the job id is the alert id. */
export const deliveryJobName = (job: Pick<DeliveryJob, 'subscriptionId' | 'recipient'>) =>
  `${job.subscriptionId} → ${job.recipient}`;
