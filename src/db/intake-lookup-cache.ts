import type { IntakeSubscription } from './stores.js';

const TTL_MS = 1000;
const MAX_ENTRIES = 1000;

/**
 * Intake's subscription lookups, by reference as sent (an id or a name), remembered for a second:
 * at thousands of alerts a second the lookup was a measurable part of intake (BENCHMARKS.md). The
 * owning store clears it on its own writes; another process's edit or delete is seen within a
 * second (an alert accepted in that second for a deleted subscription fails `subscription_deleted`).
 * Only found subscriptions are remembered.
 */
export class IntakeLookupCache {
  private readonly entries = new Map<string, { subscription: IntakeSubscription; until: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async lookup(ref: string, load: () => Promise<IntakeSubscription | undefined>): Promise<IntakeSubscription | undefined> {
    const now = this.now();
    const cached = this.entries.get(ref);
    if (cached && cached.until > now) return cached.subscription;
    const subscription = await load();
    if (!subscription) return undefined;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(ref, { subscription, until: now + TTL_MS });
    return subscription;
  }

  clear(): void {
    this.entries.clear();
  }
}
