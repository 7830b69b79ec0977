import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { TransferKind } from '../config.js';
import { AppError, notFound, unavailable } from '../errors.js';
import type { AlertRow } from '../db/schema.js';
import { newAlertId } from '../lib/ids.js';
import { parseInput } from '../lib/validation.js';
import { GroupCommit } from '../lib/group-commit.js';
import { withTimeout } from '../lib/with-timeout.js';
import { alertMessageSchema } from '../queues/delivery-job.js';
import type { AlertQueues, QueuedDelivery } from '../queues/alert-queues.js';
import type { SubscriptionThrottle } from '../queues/subscription-throttle.js';
import type { IntakeSubscription, SubscriptionStore } from '../subscriptions/subscription-store.js';
import type { AlertStore } from './alert-store.js';
import type { IntakeQuota } from './intake-quota.js';

/**
 * Alert intake (SPEC §3): validate everything first (all-or-nothing), write the records, then the
 * queue jobs. If Redis refuses the jobs, the records are removed again and the client gets 503,
 * so no orphan record stays behind.
 */

const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;
/** SPEC §5: a 503 is answered in under a second, never a hang. */
const QUEUE_WRITE_TIMEOUT_MS = 800;

// No control characters: the key a batch derives for an item uses one, so it can collide with no key sent.
const idempotencyKeySchema = z
  .string()
  .trim()
  .min(1)
  .max(200)
  // eslint-disable-next-line no-control-regex
  .refine((key) => !/[\u0000-\u001f\u007f]/.test(key), 'must not contain control characters');
/** The key of item `index` of a batch sent with the Idempotency-Key `header`. */
const derivedKey = (header: string, index: number) => `${header}\u001f${index}`;

export const alertInputSchema = z.strictObject({
  ...alertMessageSchema.shape,
  subscription: z.string().trim().min(1).max(200),
  recipient: z.string().trim().min(1).max(254).optional(),
  transfer: z.enum(['initial', 'ongoing']).default('ongoing'),
  idempotencyKey: idempotencyKeySchema.optional(),
});

const batchSchema = z.strictObject({
  alerts: z.array(z.unknown()).min(1, 'at least one alert').max(1000, 'at most 1,000 alerts'),
});

export type AlertInput = z.infer<typeof alertInputSchema>;

export interface IntakeContext {
  /** The API key that sent the alerts (docs/contract.md §6.1), or null for the relay itself (manual sync). */
  caller: { role: 'intake' | 'admin'; keyId: string } | null;
  /** The Idempotency-Key header, when sent. */
  idempotencyKey?: string;
}

export interface IntakeResult {
  id: string;
  status: AlertRow['status'];
  repeated: boolean;
}

export interface AlertIntakeDeps {
  alerts: AlertStore;
  subscriptions: SubscriptionStore;
  queues: AlertQueues;
  throttle: SubscriptionThrottle;
  /** INTAKE_RATE_LIMIT per intake key */
  quota: IntakeQuota;
  now?: () => number;
}

type IntakeItem = { row: AlertRow; subscription: IntakeSubscription };

export class AlertIntake {
  private readonly now: () => number;
  private readonly writes: GroupCommit<IntakeItem, { row: AlertRow; repeated: boolean }[] | AppError>;

  constructor(private readonly deps: AlertIntakeDeps) {
    this.now = deps.now ?? Date.now;
    // groups of about one batch request: several in flight keep the web process and Redis both busy
    this.writes = new GroupCommit((items) => this.write(items), 100);
  }

  async acceptOne(body: unknown, context: IntakeContext): Promise<IntakeResult> {
    const input = parseInput(alertInputSchema, body);
    input.idempotencyKey = headerKey(context) ?? input.idempotencyKey;
    const [result] = await this.accept([input], context);
    return result!;
  }

  /** A header key on a batch becomes `<key>#<index>` for items without their own key. */
  async acceptBatch(body: unknown, context: IntakeContext): Promise<IntakeResult[]> {
    const { alerts: items } = parseInput(batchSchema, body);
    const header = headerKey(context);
    const inputs = items.map((item, index) => {
      try {
        const input = parseInput(alertInputSchema, item);
        input.idempotencyKey ??= header && derivedKey(header, index);
        return input;
      } catch (error) {
        throw atIndex(error, index);
      }
    });
    return this.accept(inputs, context);
  }

  /** Validation (per request, all-or-nothing) here; the writes are grouped with other requests'. */
  private async accept(inputs: AlertInput[], context: IntakeContext): Promise<IntakeResult[]> {
    const apiKeyId = context.caller?.keyId ?? null;
    const now = this.now();
    const byRef = new Map<string, IntakeSubscription>();
    const items = inputs.map((input, index) => {
      try {
        const subscription = this.findSubscription(input.subscription, byRef);
        return { row: this.toRow(input, subscription, apiKeyId, now), subscription };
      } catch (error) {
        throw inputs.length > 1 ? atIndex(error, index) : error;
      }
    });
    // Each intake key's quota; a refused request writes nothing. The relay's own alerts and admin keys have none.
    if (context.caller?.role === 'intake') await this.deps.quota.consume(context.caller.keyId, items.length);
    const written = await this.writes.submit(items);
    if (written instanceof AppError) throw written;
    return written.map(({ row, repeated }) => ({ id: row.id, status: row.status, repeated }));
  }

  /** One group commit: the records in one transaction, then their jobs in one round trip. */
  private async write(requests: IntakeItem[][]) {
    const outcomes = this.deps.alerts.insertUnlessRepeated(
      requests.map((items) => items.map((item) => item.row)),
      this.now() - IDEMPOTENCY_WINDOW_MS,
    );
    const fresh = outcomes.flatMap((outcome) => ('written' in outcome ? outcome.written.filter((w) => !w.repeated).map((w) => w.row) : []));
    const subscriptions = new Map(requests.flat().map((item) => [item.subscription.id, item.subscription]));
    try {
      await withTimeout(
        (async () => this.deps.queues.add(await this.scheduled(fresh, subscriptions)))(),
        QUEUE_WRITE_TIMEOUT_MS,
      );
    } catch {
      this.deps.alerts.deleteMany(fresh.map((row) => row.id));
      throw unavailable('The queue (Redis) cannot take the alert right now; nothing was stored. Try again.', 1);
    }
    return outcomes.map((outcome, i) => {
      if ('written' in outcome) return outcome.written;
      const reused = new AppError(
        'idempotency_key_reused',
        409,
        `This Idempotency-Key was used within 24 hours for another payload (alert ${outcome.earlier.id}); send a new key for a new alert.`,
      );
      return requests[i]!.length > 1 ? (atIndex(reused, outcome.conflict) as AppError) : reused;
    });
  }

  /** Each delivery with the delay of the slot its subscription's throttle reserved for it. */
  private async scheduled(rows: AlertRow[], subscriptions: Map<string, IntakeSubscription>): Promise<QueuedDelivery[]> {
    const groups = new Map<string, AlertRow[]>();
    for (const row of rows) {
      const key = `${row.subscriptionId}\n${row.transfer}`;
      const group = groups.get(key);
      if (group) group.push(row);
      else groups.set(key, [row]);
    }
    const deliveries: QueuedDelivery[] = [];
    for (const group of groups.values()) {
      const { subscriptionId, transfer } = group[0]!;
      const throttle = subscriptions.get(subscriptionId)!.throttle;
      const delays = await this.deps.throttle.reserve(subscriptionId, transfer, throttle, group.length);
      group.forEach((row, i) =>
        deliveries.push({
          alertId: row.id,
          subscriptionId: row.subscriptionId,
          recipient: row.recipient,
          transfer: row.transfer,
          message: row.message,
          delayMs: delays[i],
        }),
      );
    }
    return deliveries;
  }

  /** Looked up once per distinct reference in a request. */
  private findSubscription(ref: string, byRef: Map<string, IntakeSubscription>): IntakeSubscription {
    let subscription = byRef.get(ref);
    if (!subscription) {
      subscription = this.deps.subscriptions.findForIntake(ref);
      if (!subscription) throw notFound(`No subscription ${JSON.stringify(ref)}.`);
      byRef.set(ref, subscription);
    }
    return subscription;
  }

  private toRow(input: AlertInput, subscription: IntakeSubscription, apiKeyId: string | null, now: number): AlertRow {
    const recipient = input.recipient ?? subscription.recipient;
    if (!recipient) {
      throw new AppError(
        'no_recipient',
        422,
        `Neither the alert nor subscription ${subscription.id} names a recipient (designated member).`,
      );
    }
    const { title, text, severity, fields, link } = input;
    const message = { title, text, severity, fields, link };
    return {
      id: newAlertId(),
      subscriptionId: subscription.id,
      transfer: input.transfer as TransferKind,
      status: 'queued',
      attempts: 0,
      tokenSource: null,
      recipient,
      message,
      slackChannel: null,
      slackTs: null,
      errorCode: null,
      errorMessage: null,
      apiKeyId,
      idempotencyKey: input.idempotencyKey ?? null,
      payloadHash: input.idempotencyKey === undefined ? null : payloadHash({ subscriptionId: subscription.id, recipient, transfer: input.transfer, message }),
      createdAt: now,
      updatedAt: now,
      deliveredAt: null,
    };
  }
}

/** The payload an idempotency key is bound to, independent of key order and of how the subscription was named. */
function payloadHash(payload: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function headerKey(context: IntakeContext): string | undefined {
  if (context.idempotencyKey === undefined) return undefined;
  const parsed = idempotencyKeySchema.safeParse(context.idempotencyKey);
  if (!parsed.success) {
    throw new AppError('invalid_request', 400, 'The Idempotency-Key header must have 1 to 200 characters and no control characters.');
  }
  return parsed.data;
}

/** Prefix a batch item's error with its position, so the client knows which one to fix. */
function atIndex(error: unknown, index: number): unknown {
  if (!(error instanceof AppError)) return error;
  const issues = error.issues?.map((issue) => ({ ...issue, path: ['alerts', index, ...issue.path] }));
  return new AppError(error.code, error.status, `alerts[${index}]: ${error.message}`, issues);
}
