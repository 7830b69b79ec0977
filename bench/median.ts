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

const SECTIONS = ['intake', 'batch', 'delivery', 'latency', 'goodput', 'storm', 'fairness', 'alertmanager', 'memory'] as const;
const med: Record<string, Record<string, unknown>> = {};
const rows: string[] = [];
rows.push(`| figure | ${files.map((f) => f.split('/').at(-1)!.replace(/\.json$/, '')).join(' | ')} | median |`);
rows.push(`|---|${runs.map(() => '---').join('|')}|---|`);

/** The median of every number under `path` (nested objects, such as alertmanager's, kept nested). */
function medianOf(path: string, values: unknown[]): unknown {
  const sample = values.find((v) => v !== undefined);
  if (sample !== null && typeof sample === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(sample)) out[key] = medianOf(`${path}.${key}`, values.map((v) => (v as Record<string, unknown> | undefined)?.[key]));
    return out;
  }
  const numbers = values.map((v) => (typeof v === 'number' ? v : Number.NaN));
  const m = round(median(numbers), 3);
  rows.push(`| ${path} | ${numbers.map((v) => (Number.isFinite(v) ? String(v) : 'n/a')).join(' | ')} | **${m}** |`);
  return m;
}
for (const section of SECTIONS) {
  if (!runs.some((r) => r[section])) continue;
  med[section] = medianOf(section, runs.map((r) => r[section])) as Record<string, unknown>;
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
