import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { describeFilter } from './message-store.js';
import { createAuthorizeRouter } from './pages/authorize-page.js';
import { createInboxRouter } from './pages/inbox-page.js';
import { SandboxState } from './sandbox-state.js';
import type {
  SandboxCall,
  SandboxFault,
  SandboxMessage,
  SandboxMessageFilter,
  SandboxUser,
  SlackSandboxOptions,
} from './types.js';
import { createWebApiRouter } from './web-api-router.js';

const DEFAULT_WAIT_TIMEOUT_MS = 5000;

/**
 * A local stand-in for Slack's Web API, its OAuth install screen and a
 * MailHog-style inbox of the DMs the bot sent. Point a WebClient at `apiUrl`.
 */
export class SlackSandbox {
  private readonly state: SandboxState;
  private readonly app: express.Express;
  private readonly closing = new AbortController();
  private server: Server | null = null;
  private address: { url: string; apiUrl: string } | null = null;

  constructor(options: SlackSandboxOptions = {}) {
    this.state = new SandboxState(options);
    this.app = express();
    this.app.disable('x-powered-by');
    // No ETags: a test polling GET endpoints should always see fresh bodies, never a 304.
    this.app.set('etag', false);
    this.app.get('/healthz', (_req, res) => {
      res.json({ ok: true });
    });
    this.app.use('/api', createWebApiRouter(this.state, this.closing.signal));
    this.app.use(createAuthorizeRouter(this.state));
    this.app.use(createInboxRouter(this.state));
  }

  /** Starts listening; port 0 picks a free port. */
  listen(port = 0, host = '127.0.0.1'): Promise<{ url: string; apiUrl: string }> {
    if (this.server) return Promise.reject(new Error('SlackSandbox is already listening'));
    const server = createServer(this.app);
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (error) => {
        this.server = null;
        reject(error);
      });
      server.listen(port, host, () => {
        const { port: actualPort } = server.address() as AddressInfo;
        const hostPart = host.includes(':') ? `[${host}]` : host;
        const url = `http://${hostPart}:${actualPort}`;
        this.address = { url, apiUrl: `${url}/api/` };
        this.state.log(`Slack sandbox listening on ${url}`);
        resolve(this.address);
      });
    });
  }

  /** Stops the server, dropping open connections and pending delays, and rejects pending waits. */
  async close(): Promise<void> {
    this.closing.abort();
    this.state.waiters.failAll('the sandbox was closed');
    const server = this.server;
    if (!server) return;
    this.server = null;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  get url(): string {
    return this.listening().url;
  }

  get apiUrl(): string {
    return this.listening().apiUrl;
  }

  /** Every Web API call in arrival order, faults included. The array is live and cleared in place by reset(). */
  get calls(): SandboxCall[] {
    return this.state.calls;
  }

  /** Every message the bot posted that matches, thread replies included, in posting order, as each reads now. */
  messages(filter: SandboxMessageFilter = {}): SandboxMessage[] {
    return this.state.messages.list(filter);
  }

  /** One message by channel (the D… id) and ts, as it reads now. */
  message(channel: string, ts: string): SandboxMessage | undefined {
    return this.state.messages.get(channel, ts);
  }

  callsTo(method: string): SandboxCall[] {
    return this.state.calls.filter((call) => call.method === method);
  }

  inject(fault: SandboxFault): void {
    this.state.faults.push(fault);
  }

  clearFaults(): void {
    this.state.faults.clear();
  }

  reset(): void {
    this.state.reset();
  }

  addUser(user: SandboxUser): void {
    this.state.users.add(user);
  }

  revokeToken(token: string): void {
    this.state.tokens.revoke(token);
  }

  /** Resolves with the matching messages once there are at least `count` of them (the same filters as messages()). */
  waitForMessages(count: number, opts: SandboxMessageFilter & { timeoutMs?: number } = {}): Promise<SandboxMessage[]> {
    const { timeoutMs = DEFAULT_WAIT_TIMEOUT_MS, ...filter } = opts;
    const found = () => this.state.messages.list(filter);
    return this.state.waiters.wait(
      'waitForMessages',
      () => {
        const messages = found();
        return messages.length >= count && messages;
      },
      timeoutMs,
      () => `expected ${count} message(s) ${describeFilter(filter)}, got ${found().length}`,
    );
  }

  /**
   * Resolves with the message once chat.update has edited it at least `edits`
   * times (default 1), e.g. to see the relay's follow-up edit of an alert.
   * The message need not exist yet when the wait starts.
   */
  waitForEdit(channel: string, ts: string, opts: { edits?: number; timeoutMs?: number } = {}): Promise<SandboxMessage> {
    const { edits = 1, timeoutMs = DEFAULT_WAIT_TIMEOUT_MS } = opts;
    const current = () => this.state.messages.get(channel, ts);
    return this.state.waiters.wait(
      'waitForEdit',
      () => {
        const message = current();
        return message !== undefined && message.history.length >= edits && message;
      },
      timeoutMs,
      () => {
        const message = current();
        const seen = message ? `${message.history.length} edit(s)` : 'no such message';
        return `expected ${edits} edit(s) of ${ts} in ${channel}, saw ${seen}`;
      },
    );
  }

  /**
   * Resolves with the probe's first result other than undefined, null or false.
   * The probe runs now and again after every post, edit and answered Web API
   * call; if it throws, the wait rejects with that error.
   * Example: `await sandbox.waitFor(() => sandbox.callsTo('chat.update').length >= 2)`.
   */
  waitFor<T>(
    probe: () => T | null | undefined | false,
    opts: { timeoutMs?: number; description?: string } = {},
  ): Promise<T> {
    const { timeoutMs = DEFAULT_WAIT_TIMEOUT_MS, description = 'the condition' } = opts;
    return this.state.waiters.wait('waitFor', probe, timeoutMs, () => `${description} did not hold`);
  }

  /**
   * A one-time OAuth code as the authorize page would issue. It fits any client
   * id; with `redirectUri`, the exchange must repeat that URI if it sends one.
   */
  createAuthCode(opts: { teamId?: string; redirectUri?: string } = {}): string {
    return this.state.codes.issue({ teamId: opts.teamId ?? this.state.team.id, redirectUri: opts.redirectUri });
  }

  private listening(): { url: string; apiUrl: string } {
    if (!this.address) throw new Error('SlackSandbox is not listening yet: await sandbox.listen() first');
    return this.address;
  }
}

export function createSlackSandbox(options?: SlackSandboxOptions): SlackSandbox {
  return new SlackSandbox(options);
}
