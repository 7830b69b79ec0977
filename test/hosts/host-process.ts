import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * One long-running process on a "host" of the many-hosts test (a relay process, redis-server):
 * its stdout and stderr kept in memory (the last few MB), a wait for a line, SIGKILL, and which
 * TCP connections it holds — read from /proc/<pid>/net/tcp, which shows the table of the
 * process's own network namespace, so it works for processes inside a host namespace too.
 */

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when the process exited */
  at: number;
}

export interface HostProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  /** stdout and stderr, interleaved as they arrived (the last MAX_OUTPUT characters) */
  output(): string;
  alive(): boolean;
  /** resolves once the process has exited and its output is drained (never rejects) */
  exited: Promise<ExitInfo>;
  /** sends `signal` (default SIGKILL) and resolves with the exit */
  kill(signal?: NodeJS.Signals): Promise<ExitInfo>;
  /** resolves when the output matches; rejects on timeout or if the process exits first */
  waitForOutput(pattern: string | RegExp, timeoutMs?: number): Promise<void>;
  /** whether the process holds an ESTABLISHED TCP connection to address:port (IPv4) */
  connectedTo(address: string, port: number): boolean;
}

const MAX_OUTPUT = 4 * 1024 * 1024;

export function trackProcess(name: string, child: ChildProcess): HostProcess {
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > MAX_OUTPUT) output = output.slice(-MAX_OUTPUT / 2);
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let exitAt = 0;
  let exitInfo: ExitInfo | null = null;
  child.once('exit', () => (exitAt = Date.now()));
  const exited = new Promise<ExitInfo>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      if (exitInfo) return;
      exitInfo = { code, signal, at: exitAt || Date.now() };
      for (const listener of listeners) listener();
      resolve(exitInfo);
    };
    child.once('close', done);
    child.once('error', (error) => {
      output += `\n[spawn error] ${error.message}\n`;
      done(null, null);
    });
  });
  const alive = () => exitInfo === null && child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    pid: child.pid ?? -1,
    output: () => output,
    alive,
    exited,
    async kill(signal = 'SIGKILL') {
      if (alive()) child.kill(signal);
      return exited;
    },
    waitForOutput(pattern, timeoutMs = 20_000) {
      const matches = () => (typeof pattern === 'string' ? output.includes(pattern) : pattern.test(output));
      return new Promise<void>((resolve, reject) => {
        const finish = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        const check = () => {
          if (matches()) {
            finish();
            resolve();
          } else if (exitInfo) {
            finish();
            reject(new Error(`${name} exited (${JSON.stringify(exitInfo)}) before printing ${String(pattern)}:\n${output.slice(-4000)}`));
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`${name} did not print ${String(pattern)} within ${timeoutMs} ms:\n${output.slice(-4000)}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    connectedTo: (address, port) => establishedTo(child.pid ?? -1, address, port),
  };
}

/** `10.213.5.1` → `0105D50A` as /proc/net/tcp writes an IPv4 address (little-endian hex). */
function procHexAddress(address: string): string {
  return address
    .split('.')
    .map((octet) => Number(octet).toString(16).toUpperCase().padStart(2, '0'))
    .reverse()
    .join('');
}

/** Whether `pid` holds an established TCP connection to address:port, in its own network namespace. */
export function establishedTo(pid: number, address: string, port: number): boolean {
  return localPortsTo(pid, address, port).length > 0;
}

/** The local ports of `pid`'s established TCP connections to address:port (its own network namespace). */
export function localPortsTo(pid: number, address: string, port: number): number[] {
  let inodes: Set<string>;
  try {
    inodes = new Set(
      readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
        try {
          const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
          return match ? [match[1]!] : [];
        } catch {
          return [];
        }
      }),
    );
  } catch {
    return [];
  }
  const wanted = `${procHexAddress(address)}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let table: string;
  try {
    table = readFileSync(`/proc/${pid}/net/tcp`, 'utf8');
  } catch {
    return [];
  }
  return table
    .split('\n')
    .slice(1)
    .flatMap((line) => {
      const cols = line.trim().split(/\s+/);
      const matches = cols.length >= 10 && cols[3] === '01' && cols[2] === wanted && inodes.has(cols[9]!);
      return matches ? [parseInt(cols[1]!.split(':')[1]!, 16)] : [];
    });
}

/** Every file and folder under `dir` (relative paths), to show that a working folder stayed empty. */
export function listTree(dir: string): string[] {
  const found: string[] = [];
  const walk = (relative: string) => {
    for (const entry of readdirSync(relative ? `${dir}/${relative}` : dir, { withFileTypes: true })) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      found.push(entry.isDirectory() ? `${path}/` : path);
      if (entry.isDirectory()) walk(path);
    }
  };
  walk('');
  return found;
}
