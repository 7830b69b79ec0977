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

export interface SandboxMessage {
  /** The DM channel id (D…), even when the caller posted to a user id. */
  channel: string;
  /** The DM's member id. */
  user: string;
  text: string;
  blocks: unknown[] | null;
  ts: string;
  token: string | null;
  at: number;
}

export type SandboxFault =
  | { kind: 'http'; status: number; method?: string; times?: number }
  | { kind: 'error'; error: string; method?: string; times?: number }
  | { kind: 'ratelimit'; retryAfter: number; method?: string; times?: number }
  | { kind: 'delay'; ms: number; method?: string; times?: number };

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
