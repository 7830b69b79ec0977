import slackWebApi from '@slack/web-api';
import type { Logger } from '../lib/logger.js';

const { WebClient, LogLevel } = slackWebApi;
export type SlackClient = InstanceType<typeof WebClient>;

/**
 * Slack clients that never retry on their own (SPEC §4): the queue owns every retry, so a 429 is
 * rejected at once with its Retry-After, and each request has a timeout. Clients are kept per
 * (apiUrl, token) because building one per job would waste the HTTP keep-alive pool.
 */
export class SlackClientFactory {
  private readonly clients = new Map<string, SlackClient>();

  constructor(
    private readonly options: { timeoutMs: number; logger: Logger; maxClients?: number },
  ) {}

  client(apiUrl: string, token: string): SlackClient {
    const key = `${apiUrl}\n${token}`;
    let client = this.clients.get(key);
    if (!client) {
      if (this.clients.size >= (this.options.maxClients ?? 1000)) this.clients.clear();
      client = new WebClient(token, {
        slackApiUrl: apiUrl,
        timeout: this.options.timeoutMs,
        rejectRateLimitedCalls: true,
        retryConfig: { retries: 0 },
        logLevel: LogLevel.ERROR,
        logger: slackLogger(this.options.logger.child({ component: 'slack-sdk' })),
      });
      this.clients.set(key, client);
    }
    return client;
  }
}

/** The Slack SDKs' logger interface, onto ours (so their lines are redacted like ours). */
export function slackLogger(logger: Logger) {
  let level = LogLevel.ERROR;
  return {
    debug: (...msg: unknown[]) => logger.debug(msg.map(String).join(' ')),
    info: (...msg: unknown[]) => logger.info(msg.map(String).join(' ')),
    warn: (...msg: unknown[]) => logger.warn(msg.map(String).join(' ')),
    error: (...msg: unknown[]) => logger.error(msg.map(String).join(' ')),
    setLevel: (next: typeof level) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
