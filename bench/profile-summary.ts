// Summarises V8 CPU profiles (.cpuprofile, from `node --cpu-prof`):
//   node_modules/.bin/tsx bench/profile-summary.ts FILE_OR_DIR [--top 25] [--match intake-web]
// Prints the top functions by self time, self time per package / area, and the inclusive time
// of the relay's own functions (src/, workers/).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

// piped into `head`: stop quietly when the reader goes away
process.stdout.on('error', () => process.exit(0));

const args = process.argv.slice(2);
const target = args.find((a) => !a.startsWith('--') && args[args.indexOf(a) - 1] !== '--top' && args[args.indexOf(a) - 1] !== '--match');
const top = Number(args[args.indexOf('--top') + 1] ?? 25) || 25;
const match = args.includes('--match') ? args[args.indexOf('--match') + 1] : undefined;
if (!target) {
  console.error('usage: tsx bench/profile-summary.ts FILE_OR_DIR [--top N] [--match SUBSTRING]');
  process.exit(2);
}

const files = statSync(target).isDirectory()
  ? readdirSync(target).filter((f) => f.endsWith('.cpuprofile') && (!match || f.includes(match))).map((f) => join(target, f))
  : [target];
if (files.length === 0) {
  console.error(`no .cpuprofile files in ${target}${match ? ` matching ${match}` : ''}`);
  process.exit(1);
}

function shortUrl(url: string): string {
  if (!url) return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

function area(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8/native (program)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `pkg ${nm[1]}`;
  if (url.startsWith('node:')) return `node ${url.slice(5).split('/')[0]}`;
  const dist = /\/dist\/(src|workers)\/(.*)$/.exec(url);
  if (dist) return `relay ${dist[1]}/${dist[2]!.split('/').slice(0, -1).join('/') || '.'}`;
  return 'other';
}

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const idleUs = profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').reduce((s, n) => s + (selfUs.get(n.id) ?? 0), 0);
  const busyUs = totalUs - idleUs;

  const key = (f: CallFrame) => `${f.functionName || '(anonymous)'}  ${shortUrl(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  const selfByFn = new Map<string, number>();
  const selfByArea = new Map<string, number>();
  const inclusiveByFn = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') continue;
    selfByFn.set(key(node.callFrame), (selfByFn.get(key(node.callFrame)) ?? 0) + us);
    const a = area(node.callFrame);
    selfByArea.set(a, (selfByArea.get(a) ?? 0) + us);
    // inclusive: every distinct relay function on the stack of this sample gets the time once
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)!.callFrame;
      if (!/\/dist\/(src|workers)\//.test(frame.url)) continue;
      const k = key(frame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusiveByFn.set(k, (inclusiveByFn.get(k) ?? 0) + us);
    }
  }

  const ms = (us: number) => (us / 1000).toFixed(0).padStart(7);
  const pct = (us: number) => `${((100 * us) / busyUs).toFixed(1).padStart(5)}%`;
  const print = (title: string, map: Map<string, number>, n: number) => {
    console.log(`\n  ${title}`);
    for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`  ${ms(us)} ms ${pct(us)}  ${name}`);
  };
  console.log(`\n=== ${file}`);
  console.log(`  wall ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s, sampled ${(totalUs / 1e6).toFixed(1)} s, busy (not idle) ${(busyUs / 1e6).toFixed(1)} s; percentages are of busy time`);
  print('self time by area (package / folder)', selfByArea, 20);
  print(`top ${top} functions by self time`, selfByFn, top);
  print('relay functions by inclusive time', inclusiveByFn, 20);
}
