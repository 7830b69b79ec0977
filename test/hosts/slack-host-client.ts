import { join } from 'node:path';
import { spawnDying } from '../helpers/process-utils.js';
import { ROOT } from './cluster.js';
import { trackProcess, type HostProcess } from './host-process.js';
import type { FrontCall } from './slack-front.js';

/** The test's handle on ./slack-host.ts: start it, ask its front what it saw, read the sandbox's DMs. */

export interface SandboxMessageJson {
  channel: string;
  user: string;
  text: string;
  ts: string;
  at: number;
}

export interface SlackHost {
  sandboxUrl: string;
  frontUrl: string;
  /** SLACK_API_URL for the relay: the front's /api/ */
  apiUrl: string;
  process: HostProcess;
  inFlight(): Promise<FrontCall[]>;
  calls(after?: number): Promise<FrontCall[]>;
  stats(): Promise<{ calls: number; inFlight: number; posted: number; hungUp: number; unreachable: number }>;
  /** `GET /messages.json` of the sandbox */
  messages(): Promise<SandboxMessageJson[]>;
  close(): Promise<void>;
}

export async function startSlackHost(options: { listen: string; latencyMs: number; markerPattern: RegExp }): Promise<SlackHost> {
  const child = spawnDying(process.execPath, ['--import', 'tsx', join(ROOT, 'test/hosts/slack-host.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_ENV: 'test',
      SLACK_HOST_LISTEN: options.listen,
      SLACK_HOST_LATENCY_MS: String(options.latencyMs),
      SLACK_HOST_MARKER: options.markerPattern.source,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const proc = trackProcess('slack-host', child);
  await proc.waitForOutput(/\{"sandboxUrl".*\}\n/, 30_000);
  const { sandboxUrl, frontUrl } = JSON.parse(/\{"sandboxUrl".*\}/.exec(proc.output())![0]) as { sandboxUrl: string; frontUrl: string };
  const get = async <T>(url: string): Promise<T> => {
    const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
    return (await res.json()) as T;
  };
  return {
    sandboxUrl,
    frontUrl,
    apiUrl: `${frontUrl}/api/`,
    process: proc,
    inFlight: () => get(`${frontUrl}/_front/inflight`),
    calls: (after = 0) => get(`${frontUrl}/_front/calls?after=${after}`),
    stats: () => get(`${frontUrl}/_front/stats`),
    messages: async () => (await get<{ messages: SandboxMessageJson[] }>(`${sandboxUrl}/messages.json`)).messages,
    async close() {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await proc.exited;
      clearTimeout(timer);
    },
  };
}
