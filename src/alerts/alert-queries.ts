import { z } from 'zod';
import { notFound } from '../errors.js';
import { parseInput } from '../lib/validation.js';
import type { SubscriptionStore } from '../subscriptions/subscription-store.js';
import type { AlertStore } from './alert-store.js';
import { toAlertView, type AlertView } from './alert-view.js';

const listQuerySchema = z.object({
  subscription: z.string().trim().min(1).max(200).optional(),
  status: z.enum(['queued', 'delivering', 'retrying', 'delivered', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});

/** Reading alert records: one by id, or a filtered list, newest first. */
export class AlertQueries {
  constructor(
    private readonly alerts: AlertStore,
    private readonly subscriptions: SubscriptionStore,
  ) {}

  get(id: string): AlertView {
    const row = this.alerts.get(id);
    if (!row) throw notFound(`No alert ${JSON.stringify(id)}.`);
    return toAlertView(row);
  }

  list(query: unknown): AlertView[] {
    const { subscription, status, limit } = parseInput(listQuerySchema, query);
    // A name is resolved to its id; an unknown reference is taken as the id of a deleted
    // subscription, whose records are kept.
    const subscriptionId = subscription
      ? (this.subscriptions.findByIdOrName(subscription)?.id ?? subscription)
      : undefined;
    return this.alerts.list({ subscriptionId, status, limit }).map(toAlertView);
  }
}
