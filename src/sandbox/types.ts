// Public types of the Slack sandbox. Other code (relay tests, demo, benchmarks)
// depends on these exact names, so change them only together with their users.

export interface SandboxUser {
  id: string;
  name: string;
  realName?: string;
  displayName?: string;
  email?: string;
  deleted?: boolean;
  isBot?: boolean;
}

/** One Web API call as the sandbox saw it, faults included. */
export interface SandboxCall {
  method: string;
  /** Bearer token, or the `token` form field; null when none was sent. */
  token: string | null;
  /** Query and body parameters as received (values are strings for form bodies); `token` is left out. */
  params: Record<string, unknown>;
  /** HTTP status answered; 0 while a delayed call is still pending, 499 if its client hung up first. */
  status: number;
  /** JSON body answered (or the plain text body of an `http` fault). */
  response: unknown;
  at: number;
}

/** Message metadata as Slack stores it (chat.postMessage / chat.update `metadata`). */
export interface SandboxMessageMetadata {
  event_type: string;
  event_payload: Record<string, unknown>;
}

/** A version of a message that a later chat.update replaced. */
export interface SandboxMessageVersion {
  text: string;
  blocks: unknown[] | null;
  /** When this version was posted or written by an earlier update (epoch ms). */
  at: number;
}

/**
 * A message the bot posted, as it reads now. Records are replaced, not changed,
 * when the message is edited: hold on to one and it keeps showing that moment.
 */
export interface SandboxMessage {
  /** The DM channel id (D…), even when the caller posted to a user id. */
  channel: string;
  /** The DM's member id. */
  user: string;
  /** Its `text`; for a post of legacy attachments alone, what they show (title and text). */
  text: string;
  blocks: unknown[] | null;
  /** Unique per message and never changed by edits. */
  ts: string;
  token: string | null;
  /** When it was posted (epoch ms); edits leave it alone. */
  at: number;
  /**
   * For a thread reply, the ts of the thread's parent; null for top-level
   * messages, thread parents included. A reply to an unknown ts keeps that ts
   * here (Slack accepts such replies too; nobody can see them).
   */
  threadTs: string | null;
  metadata: SandboxMessageMetadata | null;
  /** Set by the latest chat.update: its `edited.ts` as Slack shows it, and when it happened. */
  edited: { ts: string; at: number } | null;
  /** Earlier versions, oldest first; empty until the message is edited. */
  history: SandboxMessageVersion[];
}

/** Which messages `messages()` and `waitForMessages()` return; all given conditions must hold. */
export interface SandboxMessageFilter {
  user?: string;
  channel?: string;
  /** Only the replies in the thread of this parent ts (not the parent itself). */
  threadTs?: string;
  /** true: only top-level messages (thread parents included); false: only replies. */
  topLevel?: boolean;
}

export type SandboxFault =
  | { kind: 'http'; status: number; method?: string; times?: number }
  | { kind: 'error'; error: string; method?: string; times?: number }
  | { kind: 'ratelimit'; retryAfter: number; method?: string; times?: number }
  | { kind: 'delay'; ms: number; method?: string; times?: number }
  /** carried out at once, answered after `ms`: a caller that hangs up sooner never learns it happened */
  | { kind: 'late_answer'; ms: number; method?: string; times?: number };

export interface SandboxOAuthOptions {
  clientId: string;
  clientSecret: string;
  rotateTokens?: boolean;
  tokenTtlSeconds?: number;
}

export interface SandboxTeam {
  id: string;
  name: string;
}

export interface SlackSandboxOptions {
  users?: SandboxUser[];
  team?: SandboxTeam;
  botUserId?: string;
  channelPostLimit?: { perSecond: number } | null;
  oauth?: SandboxOAuthOptions;
  log?: (line: string) => void;
}
