import { AuthCodes } from './auth-codes.js';
import { ChangeWaiters } from './change-waiters.js';
import { ChannelRateLimiter } from './channel-rate-limiter.js';
import { DmChannels } from './dm-channels.js';
import { FaultQueue } from './fault-queue.js';
import { MessageStore } from './message-store.js';
import { MessageTsClock } from './message-ts.js';
import { TokenRegistry } from './token-registry.js';
import type { SandboxCall, SandboxOAuthOptions, SandboxTeam, SlackSandboxOptions } from './types.js';
import { DEFAULT_USERS, UserDirectory } from './user-directory.js';

export const DEFAULT_TEAM: SandboxTeam = { id: 'T0SANDBOX', name: 'Sandbox' };
export const DEFAULT_BOT_USER_ID = 'U0BOT';
export const BOT_ID = 'B0BOT';
export const APP_ID = 'A0SANDBOX';
export const DEFAULT_TOKEN_TTL_SECONDS = 43_200;

/**
 * Everything the sandbox remembers, shared by the Web API methods and the pages.
 * Kept apart from the HTTP server so handlers stay plain functions of state.
 */
export class SandboxState {
  readonly team: SandboxTeam;
  readonly botUserId: string;
  readonly oauth: Required<SandboxOAuthOptions> | null;
  readonly users: UserDirectory;
  readonly dms = new DmChannels();
  /** Tests waiting for messages, edits or calls; re-checked whenever one of those changes. */
  readonly waiters = new ChangeWaiters();
  readonly messages = new MessageStore(() => this.waiters.notify());
  readonly tokens = new TokenRegistry();
  readonly codes = new AuthCodes();
  readonly faults = new FaultQueue();
  readonly tsClock = new MessageTsClock();
  readonly rateLimiter: ChannelRateLimiter | null;
  readonly calls: SandboxCall[] = [];
  readonly log: (line: string) => void;

  constructor(options: SlackSandboxOptions) {
    this.team = { ...(options.team ?? DEFAULT_TEAM) };
    this.botUserId = options.botUserId ?? DEFAULT_BOT_USER_ID;
    this.users = new UserDirectory(options.users ?? DEFAULT_USERS);
    this.rateLimiter = options.channelPostLimit ? new ChannelRateLimiter(options.channelPostLimit.perSecond) : null;
    this.oauth = options.oauth
      ? {
          clientId: options.oauth.clientId,
          clientSecret: options.oauth.clientSecret,
          rotateTokens: options.oauth.rotateTokens ?? false,
          tokenTtlSeconds: options.oauth.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS,
        }
      : null;
    this.log = options.log ?? (() => {});
  }

  /** A team's display form; installs into other team ids (createAuthCode({ teamId })) reuse the sandbox's name. */
  teamFor(teamId: string | null): SandboxTeam {
    return teamId && teamId !== this.team.id ? { id: teamId, name: this.team.name } : this.team;
  }

  /** Forgets calls, messages, faults and rate-limit windows; users, DMs, tokens and codes stay. */
  reset(): void {
    this.calls.length = 0;
    this.messages.clear();
    this.faults.clear();
    this.rateLimiter?.clear();
  }
}
