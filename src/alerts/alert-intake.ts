import { createHash } from 'node:crypto';
import type { AlertInput } from '../domain.js';
import type { AlertRow } from '../db/rows.js';
import type { AlertStore, IntakeSubscription, SubscriptionStore } from '../db/stores.js';
import { AppError, atIndex, notFound, unavailable } from '../errors.js';
import { newAlertId } from '../lib/ids.js';
import { GroupCommit } from '../lib/group-commit.js';
import type { Logger } from '../lib/logger.js';
import { stepTimer, type StepTimer } from '../lib/step-timer.js';
import { withTimeout } from '../lib/with-timeout.js';
import { deliveryOf, type AlertQueues, type QueuedDelivery } from '../queues/alert-queues.js';
import type { SubscriptionThrottle } from '../limits/subscription-throttle.js';
import type { IntakeQuota } from './intake-quota.js';
import type { NotificationDedup } from './notification-dedup.js';

/**
 * Alert intake (docs/contract.md §3): takes typed alert inputs (each way in parses its own body
 * format at the edge), resolves their subscriptions all-or-nothing, takes the caller's quota,
 * writes the records, then the queue jobs. If Redis refuses the jobs, the records are removed again
 * and the client gets 503, so no orphan record stays behind.
 */

const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;
const DUPLICATE_MESSAGE =
  'The same notification (fingerprint, status and startsAt) arrived within DEDUP_WINDOW_SECONDS, as an HA pair sends it twice: nothing was posted.';
/** §5: a 503 is answered in under a second, never a hang. */
const QUEUE_WRITE_TIMEOUT_MS = 800;

export interface IntakeContext {
  /** The API key that sent the alerts (§6.1), or null for the relay itself (manual sync). */
  caller: { role: 'intake' | 'admin'; keyId: string } | null;
  /** ids to give the records (the manual sync names its test alert before queueing it) */
  ids?: string[];
  /** this request's steps so far (body, parse), from `AlertIntake.stepTimer` */
  steps?: StepTimer;
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
  /** an HA pair's second copy of a notification is a duplicate (§6.4) */
  dedup?: NotificationDedup;
  /** at `debug`, each request's steps (see StepTimer) */
  logger?: Logger;
  now?: () => number;
}

/** One alert of a request; `quotaKey` is the intake key whose quota it takes (null: none). */
type IntakeItem = { row: AlertRow; subscription: IntakeSubscription; quotaKey: string | null; steps: StepTimer };

export class AlertIntake {
  private readonly now: () => number;
  private readonly writes: GroupCommit<IntakeItem, { row: AlertRow; repeated: boolean }[] | AppError>;

  constructor(private readonly deps: AlertIntakeDeps) {
    this.now = deps.now ?? Date.now;
    // groups of about one batch request: several in flight keep the web process and Redis both busy
    this.writes = new GroupCommit((requests) => this.write(requests), 100);
  }

  /** A timer of one request's steps: a no-op unless the log shows `debug`. */
  stepTimer(): StepTimer {
    return stepTimer(this.deps.logger?.isLevelEnabled('debug') ?? false);
  }

  /** An id for a record intake will write (see IntakeContext.ids). */
  newId(): string {
    return newAlertId();
  }

  /** One request's alerts, in order; refused whole if any is. The writes are grouped with other requests'. */
  async accept(inputs: AlertInput[], context: IntakeContext): Promise<IntakeResult[]> {
    const apiKeyId = context.caller?.keyId ?? null;
    // Each intake key's quota, taken in the group commit; the relay's own alerts and admin keys have none.
    const quotaKey = context.caller?.role === 'intake' ? context.caller.keyId : null;
    const now = this.now();
    const steps = context.steps ?? this.stepTimer();
    // each distinct reference looked up once, all at once
    const refs = [...new Set(inputs.map((input) => input.subscription))];
    const found = await Promise.all(refs.map((ref) => this.deps.subscriptions.findForIntake(ref)));
    const byRef = new Map(refs.map((ref, i) => [ref, found[i]]));
    const items = inputs.map((input, index): IntakeItem => {
      try {
        const subscription = byRef.get(input.subscription);
        if (!subscription) throw notFound(`No subscription ${JSON.stringify(input.subscription)}.`);
        return { row: this.toRow(input, subscription, apiKeyId, now, context.ids?.[index]), subscription, quotaKey, steps };
      } catch (error) {
        throw inputs.length > 1 ? atIndex(error, index) : error;
      }
    });
    steps.mark('lookup');
    const claimed = await this.markDuplicates(inputs, items);
    steps.mark('dedup');
    try {
      const written = await this.writes.submit(items);
      if (written instanceof AppError) throw written;
      // queuedAt: when Redis had the jobs (the last step)
      if (steps.startedAt) {
        const alertIds = written.map(({ row }) => row.id);
        this.deps.logger?.debug({ alertIds, steps: steps.steps, startedAt: steps.startedAt, queuedAt: steps.lastAt }, 'intake steps');
      }
      return written.map(({ row, repeated }) => ({ id: row.id, status: row.status, repeated }));
    } catch (error) {
      await this.deps.dedup?.release(claimed);
      throw error;
    }
  }

  /**
   * Claims the notifications among `items`; a copy already claimed (by the HA pair's other half,
   * or earlier in this request) is stored `suppressed`, with no job. Answers the keys claimed.
   */
  private async markDuplicates(inputs: AlertInput[], items: IntakeItem[]): Promise<string[]> {
    const { dedup } = this.deps;
    const keyed = items.flatMap((item, i) => {
      const notificationKey = inputs[i]!.notificationKey;
      return dedup && notificationKey !== undefined ? [{ item, key: dedup.key(item.subscription.id, notificationKey) }] : [];
    });
    if (!dedup || keyed.length === 0) return [];
    const first = await dedup.claim(keyed.map(({ key }) => key));
    keyed.forEach(({ item }, i) => {
      if (!first[i]) item.row = { ...item.row, status: 'suppressed', errorCode: 'duplicate', errorMessage: DUPLICATE_MESSAGE };
    });
    return keyed.filter((_, i) => first[i]).map(({ key }) => key);
  }

  /** One group commit: each key's quota taken once, the records in one transaction, then their jobs in one round trip. */
  private async write(submitted: IntakeItem[][]) {
    // every request of the group marks the same steps (a no-op unless timed); a request's items share its timer
    const timers = submitted.flatMap((items) => (items[0] ? [items[0].steps] : []));
    const mark = (step: string) => timers.forEach((steps) => steps.mark(step));
    mark('turn');
    const refused = await this.takeQuota(submitted);
    mark('quota');
    const requests = submitted.filter((_, i) => !refused[i]);
    const written = requests.length > 0 ? await this.writeAdmitted(requests, mark) : [];
    let next = 0;
    return submitted.map((_, i) => refused[i] ?? written[next++]!);
  }

  /**
   * INTAKE_RATE_LIMIT for the group: one call per intake key for all its requests; when they do
   * not fit together, each on its own in order, so that the ones within the quota still go
   * through. A refused request writes nothing; its refusal is its own.
   */
  private async takeQuota(requests: IntakeItem[][]): Promise<(AppError | undefined)[]> {
    const refused: (AppError | undefined)[] = requests.map(() => undefined);
    const byKey = new Map<string, number[]>();
    requests.forEach((items, i) => {
      const key = items[0]?.quotaKey;
      if (key) byKey.set(key, [...(byKey.get(key) ?? []), i]);
    });
    const consume = async (key: string, indexes: number[]): Promise<AppError | undefined> => {
      try {
        await this.deps.quota.consume(key, indexes.reduce((sum, i) => sum + requests[i]!.length, 0));
        return undefined;
      } catch (error) {
        if (error instanceof AppError) return error;
        throw error;
      }
    };
    await Promise.all(
      [...byKey].map(async ([key, indexes]) => {
        const together = await consume(key, indexes);
        if (!together) return;
        if (together.code !== 'rate_limited' || indexes.length === 1) {
          for (const i of indexes) refused[i] = together;
          return;
        }
        for (const i of indexes) refused[i] = await consume(key, [i]);
      }),
    );
    return refused;
  }

  private async writeAdmitted(requests: IntakeItem[][], mark: (step: string) => void) {
    const outcomes = await this.deps.alerts.insertUnlessRepeated(
      requests.map((items) => items.map((item) => item.row)),
      this.now() - IDEMPOTENCY_WINDOW_MS,
    );
    mark('record');
    const fresh = outcomes.flatMap((outcome) => ('written' in outcome ? outcome.written.filter((w) => !w.repeated).map((w) => w.row) : []));
    // a duplicate is stored as it is, with no job
    const toQueue = fresh.filter((row) => row.status === 'queued');
    const subscriptions = new Map(requests.flat().map((item) => [item.subscription.id, item.subscription]));
    try {
      await withTimeout(
        (async () => {
          const deliveries = await this.scheduled(toQueue, subscriptions);
          mark('reserve');
          await this.deps.queues.add(deliveries);
          mark('queue');
        })(),
        QUEUE_WRITE_TIMEOUT_MS,
      );
    } catch {
      await this.deps.alerts.deleteMany(fresh.map((row) => row.id));
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

  /** Each delivery with the slot its subscription's throttle reserved for it (its delay and rank). */
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
      const slots = await this.deps.throttle.reserve(subscriptionId, transfer, throttle, group.length);
      group.forEach((row, i) => deliveries.push({ ...deliveryOf(row), ...slots[i]! }));
    }
    return deliveries;
  }

  private toRow(input: AlertInput, subscription: IntakeSubscription, apiKeyId: string | null, now: number, id = newAlertId()): AlertRow {
    const recipient = input.recipient ?? subscription.recipient;
    if (!recipient) {
      throw new AppError(
        'no_recipient',
        422,
        `Neither the alert nor subscription ${subscription.id} names a recipient (designated member).`,
      );
    }
    return {
      id,
      subscriptionId: subscription.id,
      transfer: input.transfer,
      status: 'queued',
      attempts: 0,
      tokenSource: null,
      recipient,
      message: input.message,
      slackChannel: null,
      slackTs: null,
      errorCode: null,
      errorMessage: null,
      apiKeyId,
      idempotencyKey: input.idempotencyKey ?? null,
      payloadHash:
        input.idempotencyKey === undefined
          ? null
          : payloadHash({ subscriptionId: subscription.id, recipient, transfer: input.transfer, message: input.message, dedupKey: input.dedupKey, event: input.event }),
      dedupKey: input.dedupKey ?? null,
      event: input.event,
      replyTs: null,
      coalesced: false,
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
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
