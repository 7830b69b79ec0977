// The Slack stand-in as its own process, so its CPU does not compete with the benchmark driver
// (autocannon, the latency sender). Started by bench/lib/sandbox-client.ts with an IPC channel:
//   node --import tsx bench/sandbox-host.ts '<SlackSandboxOptions as JSON>'
// It answers small queries over IPC (counts, message times); the relay talks to it over HTTP.
import { createSlackSandbox, type SlackSandboxOptions } from '../src/sandbox/index.js';
import { DEFAULT_USERS } from '../src/sandbox/user-directory.js';
import { carriedAlertIds } from '../src/slack/message-format.js';
import { benchMember } from './lib/sandbox-client.js';

export type HostRequest =
  | { id: number; cmd: 'reset' }
  | { id: number; cmd: 'stats' }
  | { id: number; cmd: 'messages'; textIncludes?: string }
  | { id: number; cmd: 'waitCount'; count: number; timeoutMs: number };

export interface HostStats {
  messages: number;
  /** the alerts those messages carry (a message without the relay's metadata counts as one) */
  alerts: number;
  firstAt: number | null;
  lastAt: number | null;
  /** calls per method and HTTP status, e.g. { 'chat.postMessage 200': 20000 } */
  calls: Record<string, number>;
}

export interface HostMessage {
  text: string;
  user: string;
  channel: string;
  at: number;
  /** the relay's alerts the message carries (its metadata: the poster, and a storm's others, §6.5) */
  alertIds: string[];
}


/** `benchMembers`: that many more members, `benchMember(i)`, beside the usual ones (too many for argv as a list) */
const { benchMembers = 0, ...options } = JSON.parse(process.argv[2] ?? '{}') as SlackSandboxOptions & { benchMembers?: number };
if (benchMembers > 0) {
  const members = Array.from({ length: benchMembers }, (_, i) => ({ id: benchMember(i), name: `member${i}` }));
  options.users = [...(options.users ?? DEFAULT_USERS), ...members];
}
const sandbox = createSlackSandbox(options);

const carried = (metadata: { event_payload: Record<string, unknown> } | null) => Math.max(1, carriedAlertIds(metadata).length);

function stats(): HostStats {
  const messages = sandbox.messages();
  const calls: Record<string, number> = {};
  for (const call of sandbox.calls) {
    const key = `${call.method} ${call.status}`;
    calls[key] = (calls[key] ?? 0) + 1;
  }
  return {
    messages: messages.length,
    alerts: messages.reduce((sum, m) => sum + carried(m.metadata), 0),
    firstAt: messages[0]?.at ?? null,
    lastAt: messages.at(-1)?.at ?? null,
    calls,
  };
}

async function handle(request: HostRequest): Promise<unknown> {
  switch (request.cmd) {
    case 'reset':
      sandbox.reset();
      return { ok: true };
    case 'stats':
      return stats();
    case 'messages':
      return sandbox
        .messages()
        .filter((m) => request.textIncludes === undefined || m.text.includes(request.textIncludes))
        .map((m): HostMessage => ({ text: m.text, user: m.user, channel: m.channel, at: m.at, alertIds: carriedAlertIds(m.metadata) }));
    case 'waitCount': {
      // polled, not sandbox.waitForMessages(): that re-filters every message on every post (O(n²));
      // counted in alerts carried, the messages seen so far counted once
      const deadline = Date.now() + request.timeoutMs;
      let seen = 0;
      let alerts = 0;
      for (;;) {
        const messages = sandbox.messages();
        for (; seen < messages.length; seen++) alerts += carried(messages[seen]!.metadata);
        if (alerts >= request.count || Date.now() > deadline) return stats();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }
}

process.on('message', (request: HostRequest) => {
  handle(request).then(
    (result) => process.send?.({ id: request.id, result }),
    (error: unknown) => process.send?.({ id: request.id, error: String(error) }),
  );
});

const stop = () => {
  sandbox.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);

const { url, apiUrl } = await sandbox.listen(0, '127.0.0.1');
process.send?.({ ready: true, url, apiUrl });
