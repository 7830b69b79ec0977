/**
 * Every Redis key the relay uses besides BullMQ's own, built in one place from QUEUE_PREFIX, so
 * that a writer and its reader can never spell one differently, and so that with a Redis Cluster
 * every key carries the prefix's hash tag (docs/contract.md §6.3).
 */
export function redisKeys(prefix: string) {
  return {
    /** a subscription's throttle cursor (current window, slots taken) */
    throttle: (subscriptionId: string, transfer: string) => `${prefix}:throttle:${subscriptionId}:${transfer}`,
    /** a queue's global ceiling (its token bucket) */
    ceiling: (transfer: string) => `${prefix}:ceiling:${transfer}`,
    /** a subscription's concurrency leases */
    inflight: (subscriptionId: string, transfer: string) => `${prefix}:inflight:${subscriptionId}:${transfer}`,
    /** a Slack 429 scope (a channel or a workspace); `:pace` and `:last` hang off a channel's key */
    slackScope: (scope: string) => `${prefix}:slack-429:${scope}`,
    /** Slack 429s counted for /metrics */
    slack429Count: `${prefix}:metrics:slack-429`,
    /** the lost-job sweeper's election */
    sweeperLock: `${prefix}:sweeper-lock`,
    /** the one process spending a subscription's refresh token */
    oauthRefreshLock: (subscriptionId: string) => `${prefix}:oauth-refresh:${subscriptionId}`,
    /** the per-key intake quota (rate-limiter-flexible appends the key id) */
    intakeQuota: `${prefix}:intake-quota`,
    /** a notification seen within DEDUP_WINDOW_SECONDS (a hash of its key) */
    notificationSeen: (subscriptionId: string, hash: string) => `${prefix}:seen:${subscriptionId}:${hash}`,
  };
}

export type RedisKeys = ReturnType<typeof redisKeys>;
