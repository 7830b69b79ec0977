import type { Redis } from 'ioredis';

/**
 * Slack's 429s, kept for the scope Slack applies them to (SPEC §4): `chat.postMessage` is limited
 * per channel (about one post a second), other methods per workspace. A 429 blocks its scope for
 * Retry-After, in Redis, so every worker process holds back that channel's or workspace's posts
 * while other channels and subscriptions keep flowing.
 */
export class SlackRateLimits {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  static workspaceScope(subscriptionId: string, tokenSource: string): string {
    return `ws:${subscriptionId}:${tokenSource}`;
  }

  static channelScope(subscriptionId: string, tokenSource: string, channel: string): string {
    return `ch:${subscriptionId}:${tokenSource}:${channel}`;
  }

  /** How long (ms) until every one of these scopes is free again; 0 when none is blocked. */
  async remainingMs(scopes: string[]): Promise<number> {
    const pipeline = this.redis.pipeline();
    for (const scope of scopes) pipeline.pttl(this.key(scope));
    const replies = (await pipeline.exec()) ?? [];
    return Math.max(0, ...replies.map(([, ttl]) => Number(ttl)));
  }

  /** Slack answered 429: block the scope and count it for /metrics. */
  async block(scope: string, ms: number): Promise<void> {
    await this.redis.multi().set(this.key(scope), '1', 'PX', ms).incr(`${this.prefix}:metrics:slack-429`).exec();
  }

  private key(scope: string): string {
    return `${this.prefix}:slack-429:${scope}`;
  }
}
