import { createHash } from 'node:crypto';
import type { RedisKeys } from '../limits/redis-keys.js';
import { unavailable } from '../errors.js';
import type { RedisClient } from '../queues/redis.js';

/**
 * HA deduplication (docs/contract.md §6.4): Alertmanager and Grafana run in pairs that each send
 * every notification. The first copy of a notification (its source's key: fingerprint, status and
 * startsAt) claims it in Redis for DEDUP_WINDOW_SECONDS, across every web process; a later copy
 * within the window is a duplicate. A claim whose alerts were then not stored is given back, so the
 * copy that arrives next (the pair's other half, a retry) is not lost.
 */
export class NotificationDedup {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly windowMs: number,
  ) {}

  /** The Redis key of a notification of a subscription. */
  key(subscriptionId: string, notificationKey: string): string {
    return this.keys.notificationSeen(subscriptionId, createHash('sha256').update(notificationKey).digest('base64url'));
  }

  /** Claims each key, in order: true for the first copy, false for a duplicate (also within `keys`). 503 if Redis cannot say. */
  async claim(keys: string[]): Promise<boolean[]> {
    if (keys.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.set(key, '1', 'PX', this.windowMs, 'NX');
    const results = await pipeline.exec().catch(() => null);
    if (!results || results.some(([error]) => error)) {
      // what was claimed is given back: nothing is stored for a refused request
      await this.release(keys.filter((_, i) => results?.[i]?.[1] === 'OK'));
      throw unavailable('The deduplication store (Redis) cannot answer right now; nothing was stored. Try again.', 1);
    }
    return results.map(([, answer]) => answer === 'OK');
  }

  /** Gives claims back (their alerts were not stored); never throws: the window then ends by itself. */
  async release(keys: string[]): Promise<void> {
    if (keys.length > 0) await this.redis.del(...keys).catch(() => {});
  }
}
