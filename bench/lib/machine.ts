import { readdirSync, readFileSync } from 'node:fs';
import { sleep, startedProcs } from './proc.js';

/**
 * The machine may be shared (other people's builds and tests on the same two cores). These
 * helpers measure how much CPU went to processes that are not the benchmark's, so that every
 * figure can be read with the load it was taken under.
 */

/** Total and idle jiffies of all CPUs, from /proc/stat. */
function cpuTimes(): { total: number; idle: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    const total = values.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    return { total, idle };
  } catch {
    return null;
  }
}

/** utime + stime (+ cutime + cstime: children already reaped) of one process, in jiffies. */
function procJiffies(pid: number | 'self', withChildren: boolean): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14 → index 11
    const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i] ?? 0));
    return utime! + stime! + (withChildren ? cutime! + cstime! : 0);
  } catch {
    return 0;
  }
}

/** Jiffies of a process and all its live descendants (PostgreSQL's backends under its postmaster). */
export function treeJiffies(rootPid: number): number {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const tree = new Set([rootPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parents) {
      if (tree.has(ppid) && !tree.has(pid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return [...tree].reduce((sum, pid) => sum + procJiffies(pid, true), 0);
}

/** CPU seconds per named group of process trees, between start() and the function it returns. */
export function cpuMeter(groups: Record<string, number[]>): () => Record<string, number> {
  const read = () => Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, pids.reduce((sum, pid) => sum + treeJiffies(pid), 0)]));
  const from = read();
  const started = Date.now();
  return () => {
    const to = read();
    const seconds = (Date.now() - started) / 1000;
    // jiffies are 1/100 s on Linux; the answer is cores busy on average
    return Object.fromEntries(Object.keys(groups).map((name) => [name, Math.round(((to[name]! - from[name]!) / 100 / seconds) * 100) / 100]));
  };
}

/** Jiffies used by the benchmark: this process, its reaped children, and its live children. */
function ourJiffies(): number {
  let sum = procJiffies('self', true);
  for (const proc of startedProcs) if (proc.alive()) sum += procJiffies(proc.pid, true);
  return sum;
}

export interface CpuSnapshot {
  total: number;
  idle: number;
  ours: number;
}

export function cpuSnapshot(): CpuSnapshot | null {
  const times = cpuTimes();
  return times ? { ...times, ours: ourJiffies() } : null;
}

/** Between two snapshots: the share of all cores used by us and by everything else (0–1 each). */
export function cpuShares(from: CpuSnapshot | null, to: CpuSnapshot | null): { ours: number; others: number } | null {
  if (!from || !to || to.total <= from.total) return null;
  const total = to.total - from.total;
  const busy = total - (to.idle - from.idle);
  const ours = Math.min(busy, Math.max(0, to.ours - from.ours));
  return { ours: ours / total, others: Math.max(0, (busy - ours) / total) };
}

/** How busy the machine is (0–1 over all cores) over `ms`, with nothing of ours working. */
export async function backgroundBusy(ms = 1000): Promise<number | null> {
  const from = cpuSnapshot();
  await sleep(ms);
  return cpuShares(from, cpuSnapshot())?.others ?? null;
}

/** Waits (at most `maxMs`) until other work uses less than `threshold` of the machine over 1 s. */
export async function waitForQuiet(maxMs: number, threshold = 0.1): Promise<{ busy: number | null; waitedMs: number }> {
  const start = Date.now();
  let busy = await backgroundBusy(1000);
  while (busy !== null && busy >= threshold && Date.now() - start < maxMs) busy = await backgroundBusy(1000);
  return { busy, waitedMs: Date.now() - start };
}
