import type { RedisClient } from '../queues/redis.js';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError, unavailable } from '../errors.js';

/**
 * INTAKE_RATE_LIMIT (docs/contract.md §6.1): each intake key may submit that many alerts a minute,
 * a batch counting its items, kept in Redis so the limit holds across every web process. A refused
 * request gives its points back, so one oversized batch does not also refuse the small requests
 * after it.
 */
export interface IntakeQuota {
  /** Take `alerts` from `keyId`'s budget, or throw 429 `rate_limited` (Retry-After) / 503 if Redis cannot say. */
  consume(keyId: string, alerts: number): Promise<void>;
}

export function createIntakeQuota(redis: RedisClient, options: { keyPrefix: string; perMinute: number }): IntakeQuota {
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: options.keyPrefix,
    points: options.perMinute,
    duration: 60,
    rejectIfRedisNotReady: true,
  });
  return {
    async consume(keyId, alerts) {
      try {
        await limiter.consume(keyId, alerts);
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) {
          throw unavailable('The quota store (Redis) cannot answer right now; nothing was stored. Try again.', 1);
        }
        await limiter.reward(keyId, alerts).catch(() => {});
        const retryAfterSeconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
        throw new AppError(
          'rate_limited',
          429,
          `This API key may send ${options.perMinute} alerts a minute (INTAKE_RATE_LIMIT); nothing was stored. Retry after ${retryAfterSeconds} s.`,
          undefined,
          retryAfterSeconds,
        );
      }
    },
  };
}
