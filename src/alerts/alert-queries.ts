import { z } from 'zod';
import { notFound } from '../errors.js';
import { parseInput } from '../lib/validation.js';
import { ALERT_STATUSES, storableText } from '../domain.js';
import type { AlertStore, SubscriptionStore } from '../db/stores.js';
import type { IntakeContext } from './alert-intake.js';
import { toAlertView, type AlertView } from './alert-view.js';

/** Who reads: an intake key sees only the records it sent (docs/contract.md §6.1), an admin every record. */
export type Reader = NonNullable<IntakeContext['caller']>;
/** The operator on the settings pages (admin password). */
export const OPERATOR: Reader = { role: 'admin', keyId: 'operator' };

const listQuerySchema = z.object({
  subscription: storableText().trim().min(1).max(200).optional(),
  status: z.enum(ALERT_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});

/** Reading alert records: one by id, or a filtered list, newest first. */
export class AlertQueries {
  constructor(
    private readonly alerts: AlertStore,
    private readonly subscriptions: SubscriptionStore,
  ) {}

  async get(id: string, reader: Reader): Promise<AlertView> {
    const row = await this.alerts.get(id);
    // another key's alert is answered like one that does not exist: ids reveal nothing
    if (!row || (reader.role !== 'admin' && row.apiKeyId !== reader.keyId)) throw notFound(`No alert ${JSON.stringify(id)}.`);
    return toAlertView(row);
  }

  async list(query: unknown, reader: Reader): Promise<AlertView[]> {
    const { subscription, status, limit } = parseInput(listQuerySchema, query);
    // A name is resolved to its id; an unknown reference is taken as the id of a deleted
    // subscription, whose records are kept.
    const subscriptionId = subscription
      ? ((await this.subscriptions.findByIdOrName(subscription))?.id ?? subscription)
      : undefined;
    const apiKeyId = reader.role === 'admin' ? undefined : reader.keyId;
    return (await this.alerts.list({ subscriptionId, status, apiKeyId, limit })).map(toAlertView);
  }
}
