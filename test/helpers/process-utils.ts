import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Small shared pieces for the infrastructure helpers (postgres-server, redis-cluster,
 * redis-sentinel, netns): distinct free ports, polling, command execution with useful errors,
 * and cleanup that still happens when a test forgets (or never reaches) its own `remove()`.
 *
 * Cleanup layers, from the most to the least reliable:
 * 1. the test's own `remove()` in `afterAll`;
 * 2. `spawnDying()`: a child started through `setpriv --pdeathsig KILL` is SIGKILLed by the kernel
 *    when the spawning thread dies, even if the test process itself is SIGKILLed;
 * 3. `onProcessExit()`: synchronous cleanups run on exit and on SIGTERM/SIGINT/SIGHUP (vitest ends
 *    its fork workers with SIGTERM, so a file that forgot `remove()` is still cleaned up);
 * 4. `removeStaleTempDirs()`: every temp folder records its owner's pid, so a later run can remove
 *    the folders (and, through a hook, the daemons) of runs that were killed.
 */

/** `count` distinct free TCP ports on `host`: all are held open until every one is chosen. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      const port = await new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, host, () => {
          const address = server.address();
          resolve(typeof address === 'object' && address ? address.port : 0);
        });
      });
      ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` until it returns a truthy value (which is returned); errors thrown by `check` count
 * as "not yet". On timeout, throws with `message` and the last error seen.
 */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 25, message = 'condition' }: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}${detail}`);
    }
    await sleep(intervalMs);
  }
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** execFile as a promise; the rejection names the command and carries its stderr. */
export function run(
  file: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; uid?: number; gid?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 60_000, uid: options.uid, gid: options.gid, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const message = `${file} ${args.join(' ')} failed (${error.code ?? error.signal ?? error.message}): ${String(stderr).trim() || String(stdout).trim()}`;
          reject(Object.assign(new Error(message), { stdout: String(stdout), stderr: String(stderr), cause: error }));
        } else {
          resolve({ stdout: String(stdout), stderr: String(stderr) });
        }
      },
    );
  });
}

let setprivChecked: boolean | undefined;
/** Whether `setpriv --pdeathsig` (util-linux) can be used here. */
export function hasPdeathsig(): boolean {
  if (setprivChecked === undefined) {
    try {
      setprivChecked = execFileSync('setpriv', ['--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes('--pdeathsig');
    } catch {
      setprivChecked = false;
    }
  }
  return setprivChecked;
}

/**
 * Spawns `file args` so that the kernel SIGKILLs it when this process dies (PR_SET_PDEATHSIG via
 * `setpriv --pdeathsig KILL`, kept across exec), and also registers a SIGKILL for `process.exit`.
 * Falls back to a plain spawn where setpriv is missing. Note: the "parent" for pdeathsig is the
 * spawning *thread*, so do not use this from a worker thread that ends before the child should.
 * Not for daemons that fork away (pg_ctl): their parent exits at once.
 */
export function spawnDying(file: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = hasPdeathsig()
    ? spawn('setpriv', ['--pdeathsig', 'KILL', '--', file, ...args], options)
    : spawn(file, [...args], options);
  const unregister = onProcessExit(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  child.once('exit', unregister);
  return child;
}

/** Kills a child (SIGKILL by default) and resolves once it has exited. */
export async function killChild(child: ChildProcess | null | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

const exitCleanups = new Set<() => void>();
let exitHookInstalled = false;

function runExitCleanups(): void {
  for (const fn of [...exitCleanups]) {
    exitCleanups.delete(fn);
    try {
      fn();
    } catch {
      /* best effort */
    }
  }
}

/**
 * Registers a synchronous cleanup for when this process exits: normally, via process.exit, an
 * uncaught exception, or SIGTERM / SIGINT / SIGHUP — vitest stops its `forks` workers with SIGTERM,
 * which skips 'exit' handlers. After the cleanups, the signal is raised again so that the process
 * still ends the way it would have (unless someone else also listens for it). Returns an unregister
 * function. Cleanups must be synchronous; errors are swallowed.
 */
export function onProcessExit(cleanup: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', runExitCleanups);
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      process.once(signal, () => {
        runExitCleanups();
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    }
  }
  exitCleanups.add(cleanup);
  return () => exitCleanups.delete(cleanup);
}

/** Whether a process with this pid exists (signal 0). */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const OWNER_FILE = '.owner-pid';

/** A fresh temp folder `<tmpdir>/<prefix>XXXXXX` that records this process as its owner (for removeStaleTempDirs). */
export function makeOwnedTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, OWNER_FILE), String(process.pid));
  return dir;
}

/**
 * Removes `<tmpdir>/<prefix>*` folders whose owning process is gone (leftovers of killed runs).
 * `beforeRemove(dir)` can stop daemons that live there first. Folders of live runs are kept.
 * Returns the removed folders.
 */
export function removeStaleTempDirs(prefix: string, beforeRemove?: (dir: string) => void): string[] {
  const removed: string[] = [];
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(prefix)) continue;
    const dir = join(tmpdir(), entry);
    const ownerFile = join(dir, OWNER_FILE);
    if (!existsSync(ownerFile)) continue;
    const owner = Number(readFileSync(ownerFile, 'utf8').trim());
    if (isPidAlive(owner)) continue;
    try {
      beforeRemove?.(dir);
    } catch {
      /* best effort */
    }
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

/** The command line of a running process (Linux /proc), '' if unknown. */
export function processCommandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/** The last `lines` lines of a (log) file, for error messages. */
export function tailFile(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
