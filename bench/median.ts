// Medians of several benchmark runs (the --json files), as a Markdown table and a JSON object:
//   node_modules/.bin/tsx bench/median.ts run1.json run2.json run3.json [--json OUT]
import { readFileSync, writeFileSync } from 'node:fs';
import { checkTargets, type Figures } from './lib/figures.js';
import { median, round } from './lib/stats.js';

const args = process.argv.slice(2);
const outIndex = args.indexOf('--json');
const out = outIndex >= 0 ? args[outIndex + 1] : undefined;
const files = args.filter((_, i) => outIndex < 0 || (i !== outIndex && i !== outIndex + 1));
if (files.length === 0) {
  console.error('usage: tsx bench/median.ts RUN.json… [--json OUT]');
  process.exit(2);
}
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Figures);

const SECTIONS = ['intake', 'batch', 'delivery', 'latency', 'goodput', 'memory'] as const;
const med: Record<string, Record<string, number>> = {};
const rows: string[] = [];
rows.push(`| figure | ${files.map((f) => f.split('/').at(-1)!.replace(/\.json$/, '')).join(' | ')} | median |`);
rows.push(`|---|${runs.map(() => '---').join('|')}|---|`);
for (const section of SECTIONS) {
  const keys = Object.keys((runs.find((r) => r[section]) ?? {})[section] ?? {});
  med[section] = {};
  for (const key of keys) {
    const values = runs.map((r) => (r[section] as unknown as Record<string, number> | undefined)?.[key] ?? Number.NaN);
    const m = round(median(values), 3);
    med[section]![key] = m;
    rows.push(`| ${section}.${key} | ${values.map((v) => (Number.isFinite(v) ? String(v) : 'n/a')).join(' | ')} | **${m}** |`);
  }
}
const other = runs.map((r) => {
  const load = (r.details?.load ?? {}) as Record<string, { otherCpuShare?: number }>;
  const shares = Object.values(load).map((l) => l.otherCpuShare ?? Number.NaN);
  return round(median(shares) * 100, 0);
});
rows.push(`| other load on the machine (median over scenarios, %) | ${other.join(' | ')} | |`);

console.log(rows.join('\n'));
console.log('');
const medians = { ...med, machine: runs[0]!.machine } as unknown as Figures;
for (const check of checkTargets(medians)) console.log(`- ${check.met ? 'MET' : check.met === null ? '?' : 'MISSED'}: ${check.name}: ${check.figure} (target ${check.target})`);
if (out) writeFileSync(out, `${JSON.stringify({ ...medians, runs: files }, null, 2)}\n`);
