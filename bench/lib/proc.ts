import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';

/**
 * Child processes of the benchmark: every relay process, baseline and the Slack stand-in runs as
 * its own OS process, with its output in a log file, its peak RSS readable from /proc, and a
 * bounded stop (SIGTERM, then SIGKILL after a grace period).
 */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// One way of finding a free port, shared with the tests.
export { freePort } from '../../test/helpers/redis-server.js';

/** Polls until `check` is truthy, at most `timeoutMs`; throws with `what` otherwise. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  { timeoutMs = 15_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined;
    try {
      value = await check();
    } catch {
      value = undefined;
    }
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Every process the benchmark started, so an aborted run can end them (each by its own pid). */
export const startedProcs = new Set<Proc>();

export function killStartedProcs(): void {
  for (const proc of startedProcs) if (proc.alive()) proc.child.kill('SIGKILL');
}

export interface Proc {
  name: string;
  pid: number;
  child: ChildProcess;
  logFile: string;
  alive(): boolean;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** last ~8 KB of output, for error messages */
  tail(): string;
  /** resolves once the output contains `pattern` (bounded) */
  waitForOutput(pattern: string | RegExp, timeoutMs?: number): Promise<void>;
  /** VmHWM (peak resident set) in MB, from /proc; null once the process is gone */
  peakRssMb(): number | null;
  /** VmRSS (current) in MB */
  rssMb(): number | null;
  /** SIGTERM, wait up to `graceMs`, then SIGKILL. Records the peak RSS first. */
  stop(graceMs?: number): Promise<void>;
  /** the last peak RSS read before the process ended */
  lastPeakRssMb: number | null;
}

export function readProcStatusMb(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

export function startProc(
  name: string,
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; logFile: string; ipc?: boolean },
): Proc {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  let tail = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-8192);
    for (const listener of [...listeners]) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'exit', not 'close': with an IPC channel, 'close' may never come once the channel is gone
    child.once('exit', (code, signal) => {
      done = true;
      log.end();
      for (const listener of [...listeners]) listener();
      resolve({ code, signal });
    });
    child.once('error', () => {
      done = true;
      resolve({ code: -1, signal: null });
    });
  });
  const proc: Proc = {
    name,
    pid: child.pid ?? -1,
    child,
    logFile: options.logFile,
    alive: () => !done && child.exitCode === null && child.signalCode === null,
    exited,
    tail: () => tail,
    waitForOutput(pattern, timeoutMs = 20_000) {
      const matches = () => (typeof pattern === 'string' ? tail.includes(pattern) : pattern.test(tail));
      return new Promise<void>((resolve, reject) => {
        const finish = (error?: Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve();
        };
        const check = () => {
          if (matches()) finish();
          else if (done) finish(new Error(`${name} exited before printing ${String(pattern)}:\n${tail}`));
        };
        const timer = setTimeout(() => finish(new Error(`${name} did not print ${String(pattern)} in ${timeoutMs} ms:\n${tail}`)), timeoutMs);
        listeners.add(check);
        check();
      });
    },
    peakRssMb: () => (proc.alive() ? readProcStatusMb(proc.pid, 'VmHWM') : null),
    rssMb: () => (proc.alive() ? readProcStatusMb(proc.pid, 'VmRSS') : null),
    lastPeakRssMb: null,
    async stop(graceMs = 10_000) {
      if (!proc.alive()) return;
      proc.lastPeakRssMb = proc.peakRssMb() ?? proc.lastPeakRssMb;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (proc.alive()) child.kill('SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  startedProcs.add(proc);
  void exited.then(() => startedProcs.delete(proc));
  return proc;
}
