import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Runs named child processes with their output prefixed, and stops them all together: SIGTERM
 * first (each finishes its in-flight work), SIGKILL after `graceMs`. If one exits on its own, the
 * others are stopped too, so the launcher never leaves half a relay running.
 */

export interface ChildSpec {
  name: string;
  command: string;
  env?: NodeJS.ProcessEnv;
}

export class Supervisor {
  private readonly children = new Map<string, ChildProcess>();
  private stopping: Promise<void> | null = null;
  readonly exited: Promise<{ name: string; code: number | null }>;
  private resolveExited!: (value: { name: string; code: number | null }) => void;

  constructor(private readonly options: { cwd?: string; graceMs?: number; write?: (line: string) => void } = {}) {
    this.exited = new Promise((resolve) => (this.resolveExited = resolve));
    process.once('exit', () => this.killAll());
  }

  start(spec: ChildSpec): ChildProcess {
    return this.spawn(spec, true);
  }

  /** Run a one-off command (the release phase) to completion; its exit stops nothing else. */
  async run(spec: ChildSpec): Promise<number | null> {
    const child = this.spawn(spec, false);
    return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  private spawn(spec: ChildSpec, longRunning: boolean): ChildProcess {
    // `exec` makes the shell become the command, so signals reach it directly.
    // Own process group: a terminal's Ctrl-C reaches only us, and we stop children in order.
    const child = spawn('/bin/sh', ['-c', `exec ${spec.command}`], {
      cwd: this.options.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.children.set(spec.name, child);
    const label = spec.name.padEnd(9);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => this.write(`${label}| ${line}`));
    }
    child.on('exit', (code, signal) => {
      this.children.delete(spec.name);
      this.write(`${label}| exited (${signal ?? `code ${code}`})`);
      if (longRunning) this.resolveExited({ name: spec.name, code });
    });
    return child;
  }

  get running(): string[] {
    return [...this.children.keys()];
  }

  stopAll(): Promise<void> {
    this.stopping ??= Promise.all(
      [...this.children.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), this.options.graceMs ?? 15_000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    ).then(() => undefined);
    return this.stopping;
  }

  /** Last resort when the launcher itself exits: nothing it started may outlive it. */
  private killAll(): void {
    for (const child of this.children.values()) child.kill('SIGKILL');
  }

  private write(line: string): void {
    (this.options.write ?? ((text: string) => process.stdout.write(`${text}\n`)))(line);
  }
}
