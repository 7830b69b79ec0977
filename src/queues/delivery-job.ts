import { z } from 'zod';
import { ALERT_EVENTS, alertMessageSchema } from '../domain.js';

/**
 * What a delivery job carries: ids, the member and the message, never a token (the worker reads
 * and decrypts the token at delivery time). Defined once, for the producer and the worker, which
 * parses it again before use.
 */
export const deliveryJobSchema = z.object({
  alertId: z.string().min(1),
  subscriptionId: z.string().min(1),
  recipient: z.string().min(1),
  message: alertMessageSchema,
  /** one condition's key and what this alert says of it (§6.4) */
  dedupKey: z.string().min(1).max(255).optional(),
  event: z.enum(ALERT_EVENTS).default('firing'),
});

export type DeliveryJob = z.infer<typeof deliveryJobSchema>;
/** What the producer writes: `event` left out for a plain firing alert. */
export type DeliveryJobData = z.input<typeof deliveryJobSchema>;

/** Job names show subscription and recipient in Bull Board; the job id is the alert id. */
export const deliveryJobName = (job: Pick<DeliveryJob, 'subscriptionId' | 'recipient'>) =>
  `${job.subscriptionId} → ${job.recipient}`;
