import { join } from 'node:path';
import type { SlackSandboxOptions } from '../../src/sandbox/index.js';
import type { HostMessage, HostRequest, HostStats } from '../sandbox-host.js';
import { startProc, type Proc } from './proc.js';

/** The Slack stand-in running in its own process (bench/sandbox-host.ts), driven over IPC. */
export interface SandboxProcess {
  url: string;
  apiUrl: string;
  proc: Proc;
  reset(): Promise<void>;
  stats(): Promise<HostStats>;
  messages(textIncludes?: string): Promise<HostMessage[]>;
  /** resolves with the stats once the messages carry `count` alerts, or at the timeout (check `alerts`) */
  waitCount(count: number, timeoutMs: number): Promise<HostStats>;
  stop(): Promise<void>;
}

/** The stand-in's extra members (`benchMembers` in its options): U0M000000, U0M000001, … */
export function benchMember(i: number): string {
  return `U0M${String(i).padStart(6, '0')}`;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export async function startSandboxProcess(
  root: string,
  runDir: string,
  name: string,
  options: SlackSandboxOptions & { benchMembers?: number },
): Promise<SandboxProcess> {
  const proc = startProc(name, process.execPath, ['--import', 'tsx', join(root, 'bench/sandbox-host.ts'), JSON.stringify(options)], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'test' },
    logFile: join(runDir, `${name}.log`),
    ipc: true,
  });
  const child = proc.child;
  let nextId = 1;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  const ready = new Promise<{ url: string; apiUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${proc.tail()}`)), 20_000);
    child.on('message', (message: any) => {
      if (message?.ready) {
        clearTimeout(timer);
        resolve({ url: message.url, apiUrl: message.apiUrl });
        return;
      }
      const waiter = pending.get(message?.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.error) waiter.reject(new Error(message.error));
      else waiter.resolve(message.result);
    });
    proc.exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${name} exited:\n${proc.tail()}`));
      for (const waiter of pending.values()) waiter.reject(new Error(`${name} exited`));
      pending.clear();
    });
  });
  const { url, apiUrl } = await ready;
  const call = <T>(request: DistributiveOmit<HostRequest, 'id'>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ ...request, id });
    });
  return {
    url,
    apiUrl,
    proc,
    reset: () => call<void>({ cmd: 'reset' }),
    stats: () => call<HostStats>({ cmd: 'stats' }),
    messages: (textIncludes) => call<HostMessage[]>({ cmd: 'messages', textIncludes }),
    waitCount: (count, timeoutMs) => call<HostStats>({ cmd: 'waitCount', count, timeoutMs }),
    async stop() {
      if (child.connected) child.disconnect();
      await proc.stop(3000);
    },
  };
}
