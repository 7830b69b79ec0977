import slackWebApi, { type WebClientOptions } from '@slack/web-api';
import type { Logger } from '../lib/logger.js';
import type { EgressPolicy } from './egress-policy.js';

const { WebClient, LogLevel } = slackWebApi;
export type SlackClient = InstanceType<typeof WebClient>;

/**
 * Slack clients that never retry on their own (docs/contract.md §4): the queue owns every retry,
 * so a 429 is rejected at once with its Retry-After, and each request has a timeout. Every client
 * connects through the egress policy (no private addresses, no redirects, answers ≤ 1 MB).
 * Clients are kept per (apiUrl, token): building one per job would waste the keep-alive pool.
 */
export class SlackClientFactory {
  private readonly clients = new Map<string, SlackClient>();

  constructor(
    private readonly options: { timeoutMs: number; logger: Logger; egress: EgressPolicy; maxClients?: number },
  ) {}

  client(apiUrl: string, token: string): SlackClient {
    const key = `${apiUrl}\n${token}`;
    let client = this.clients.get(key);
    if (!client) {
      if (this.clients.size >= (this.options.maxClients ?? 1000)) this.clients.clear();
      client = new WebClient(token, slackClientOptions(apiUrl, this.options));
      this.clients.set(key, client);
    }
    return client;
  }
}

/** The options of every WebClient the relay builds, the OAuth exchange's included. */
export function slackClientOptions(apiUrl: string, options: { timeoutMs: number; logger: Logger; egress: EgressPolicy }): WebClientOptions {
  return {
    slackApiUrl: apiUrl,
    timeout: options.timeoutMs,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    // method names are never absolute URLs: the apiUrl checked by the egress policy is the only host
    allowAbsoluteUrls: false,
    fetch: options.egress.fetch as unknown as WebClientOptions['fetch'],
    logLevel: LogLevel.ERROR,
    logger: silentSlackLogger(),
  };
}

/**
 * The Slack SDKs' logger interface, where nothing passes: their lines carry request bodies (OAuth
 * codes, client secrets) and what remote servers answered (warnings, messages, error strings),
 * untrusted text (docs/contract.md §6.2). The relay logs each outcome itself, classified.
 */
export function silentSlackLogger() {
  let level = LogLevel.ERROR;
  return {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: () => {},
    setLevel: (next: typeof level) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
