import type {
  AuthTestArguments,
  AuthTestResponse,
  ChatPostMessageArguments,
  ChatPostMessageResponse,
  ChatUpdateArguments,
  ChatUpdateResponse,
  ConversationsHistoryArguments,
  ConversationsHistoryResponse,
  ConversationsOpenArguments,
  ConversationsOpenResponse,
  ConversationsRepliesArguments,
  ConversationsRepliesResponse,
  UsersListArguments,
  UsersListResponse,
  UsersLookupByEmailArguments,
  UsersLookupByEmailResponse,
} from '@slack/web-api';
import type { TokenSource } from '../domain.js';
import { SlackRateLimits } from '../limits/slack-rate-limits.js';
import type { SlackClient, SlackClientFactory } from './client-factory.js';
import { classifySlackError, DeliveryFailure } from './errors.js';

/**
 * The Slack Web API methods the relay calls, each with the scope Slack rate-limits it by
 * (docs/contract.md §4): posts and edits per channel (about one a second), everything else per
 * workspace. Every call goes through a session, which holds back a scope Slack limited and, on a
 * 429, blocks that scope in Redis for every worker.
 */
interface SlackMethods {
  'auth.test': [AuthTestArguments, AuthTestResponse];
  'users.lookupByEmail': [UsersLookupByEmailArguments, UsersLookupByEmailResponse];
  'users.list': [UsersListArguments, UsersListResponse];
  'conversations.open': [ConversationsOpenArguments, ConversationsOpenResponse];
  'chat.postMessage': [ChatPostMessageArguments, ChatPostMessageResponse];
  'chat.update': [ChatUpdateArguments, ChatUpdateResponse];
  'conversations.history': [ConversationsHistoryArguments, ConversationsHistoryResponse];
  'conversations.replies': [ConversationsRepliesArguments, ConversationsRepliesResponse];
}
export type SlackMethod = keyof SlackMethods;

export const RATE_LIMIT_SCOPE: Record<SlackMethod, 'workspace' | 'channel'> = {
  'auth.test': 'workspace',
  'users.lookupByEmail': 'workspace',
  'users.list': 'workspace',
  'conversations.open': 'workspace',
  'chat.postMessage': 'channel',
  'chat.update': 'channel',
  'conversations.history': 'workspace',
  'conversations.replies': 'workspace',
};

/** Where a session's calls go, and with which token. */
export interface SlackTarget {
  subscriptionId: string;
  apiUrl: string;
  token: string;
  source: TokenSource;
}

export class SlackGateway {
  constructor(
    private readonly clients: SlackClientFactory,
    private readonly rateLimits: SlackRateLimits,
  ) {}

  session(target: SlackTarget): SlackSession {
    return new SlackSession(this.clients.client(target.apiUrl, target.token), this.rateLimits, target);
  }
}

export class SlackSession {
  /** separates cached lookups and rate-limit scopes by workspace and token source */
  readonly scope: string;
  private readonly workspace: string;

  constructor(
    private readonly client: SlackClient,
    private readonly rateLimits: SlackRateLimits,
    private readonly target: SlackTarget,
  ) {
    this.scope = `${target.subscriptionId}:${target.source}`;
    this.workspace = SlackRateLimits.workspaceScope(target.subscriptionId, target.source);
  }

  /**
   * One call. A 429 blocks its scope for Retry-After and comes back as a `rate_limited` failure;
   * for a channel, with the wait until this call's paced slot behind the others already waiting.
   */
  async call<M extends SlackMethod>(method: M, args: SlackMethods[M][0], options: { storm?: boolean } = {}): Promise<SlackMethods[M][1]> {
    try {
      return (await this.client.apiCall(method, args as Record<string, unknown>)) as SlackMethods[M][1];
    } catch (error) {
      const failure = classifySlackError(error);
      if (failure.kind !== 'rate_limited') throw error;
      const channel = RATE_LIMIT_SCOPE[method] === 'channel' ? (args as { channel?: string }).channel : undefined;
      if (!channel) {
        await this.rateLimits.block(this.workspace, failure.retryAfterMs);
        throw error;
      }
      const channelScope = this.channelScope(channel);
      // a storm's post waits with the storm (joinStorm), holding no slot of its own
      if (options.storm) {
        await this.rateLimits.blockPaced(channelScope, failure.retryAfterMs);
        throw error;
      }
      await this.rateLimits.block(channelScope, failure.retryAfterMs);
      const { waitMs } = await this.rateLimits.waitMs(this.workspace, channelScope);
      throw new DeliveryFailure({ ...failure, retryAfterMs: waitMs });
    }
  }

  /**
   * How long a post or edit to `channel` must wait for the workspace and the channel (0 when
   * neither is limited). `paced` says the channel is being paced: record the post when it went out.
   */
  pace(channel: string): Promise<{ waitMs: number; paced: boolean }> {
    return this.rateLimits.waitMs(this.workspace, this.channelScope(channel));
  }

  /** A new message to `channel` waits with the others of a storm (docs/contract.md §6.5); see SlackRateLimits.joinStorm. */
  joinStorm(channel: string, alert: { id: string; createdAt: number }, capacity: number): Promise<{ waitMs: number; leader: boolean; paced: boolean }> {
    return this.rateLimits.joinStorm(this.workspace, this.channelScope(channel), alert, capacity);
  }

  takeStorm(channel: string, leaderId: string, count: number): Promise<string[]> {
    return this.rateLimits.takeStorm(this.channelScope(channel), leaderId, count);
  }

  rejoinStorm(channel: string, alerts: { id: string; createdAt: number }[]): Promise<void> {
    return this.rateLimits.rejoinStorm(this.channelScope(channel), alerts);
  }

  /** A paced channel's post went out now; never throws (the post must not be retried). */
  async posted(channel: string): Promise<void> {
    await this.rateLimits.recordPost(this.channelScope(channel)).catch(() => {});
  }

  private channelScope(channel: string): string {
    return SlackRateLimits.channelScope(this.target.subscriptionId, this.target.source, channel);
  }
}
