/** The figures a run writes (`--json FILE`), and the targets they are judged by. */
import type { AlertmanagerFigures } from '../alertmanager.js';
import type { StepsFigures } from '../steps.js';

export interface Figures {
  machine: { cores: number; node: string; redis: string; cpuModel?: string; platform?: string };
  mode?: 'quick' | 'full';
  intake: { rps: number; p50Ms: number; p99Ms: number; baselineRps: number };
  batch: { alertsPerSec: number; baselineAlertsPerSec: number };
  delivery: { oneWorkerPerSec: number; twoWorkersPerSec: number; baselinePerSec: number };
  latency: { p50Ms: number; p95Ms: number; p99Ms: number };
  goodput: { ratio: number; failed: number; duplicates: number };
  /** 500 alerts to one member, the stand-in at one post per second per channel (§6.5) */
  storm: { allDeliveredS: number; posts: number; lost: number; duplicates: number };
  /** another subscription's alerts while one's backlog of 10,000 fills the default ceiling */
  fairness: { probeP50Ms: number; probeP99Ms: number; probesDelivered: number; backlogDelivered: number };
  /** side by side with Prometheus Alertmanager (bench/alertmanager.ts); ratios are relay / Alertmanager */
  alertmanager: AlertmanagerFigures;
  /** one alert at a time, step by step (bench/steps.ts) */
  steps: StepsFigures;
  memory: { webRssMb: number; workerRssMb: number };
  /** delivered/s with 1, 2 and 3 workers, per dialect */
  workers: { sqlite: number[]; postgres: number[] };
  database?: 'sqlite' | 'postgres';
  details?: Record<string, unknown>;
}

export interface TargetCheck {
  name: string;
  figure: string;
  target: string;
  met: boolean | null;
}

const pct = (value: number) => (Number.isFinite(value) ? `${Math.round(value * 100)}%` : 'n/a');
const known = (...values: number[]) => values.every((v) => Number.isFinite(v));

export function checkTargets(f: Partial<Figures>): TargetCheck[] {
  const checks: TargetCheck[] = [];
  if (f.intake) {
    const ratio = f.intake.rps / f.intake.baselineRps;
    checks.push({
      name: 'intake throughput',
      figure: `${pct(ratio)} of bare handler`,
      target: '≥ 70% of bare-handler baseline',
      met: known(ratio) ? ratio >= 0.7 : null,
    });
    checks.push({ name: 'intake p99', figure: `${f.intake.p99Ms} ms`, target: '≤ 50 ms', met: known(f.intake.p99Ms) ? f.intake.p99Ms <= 50 : null });
  }
  if (f.batch) {
    const ratio = f.batch.alertsPerSec / f.batch.baselineAlertsPerSec;
    checks.push({ name: 'batch intake', figure: `${pct(ratio)} of raw addBulk`, target: '≥ 60% of raw addBulk', met: known(ratio) ? ratio >= 0.6 : null });
  }
  if (f.delivery) {
    const ratio = f.delivery.oneWorkerPerSec / f.delivery.baselinePerSec;
    checks.push({
      name: 'delivery per worker',
      figure: `${pct(ratio)} of raw worker (one relay worker vs one raw worker)`,
      target: '≥ 70% of raw-worker baseline',
      met: known(ratio) ? ratio >= 0.7 : null,
    });
  }
  if (f.latency) {
    checks.push({ name: 'latency p99 at 100/s', figure: `${f.latency.p99Ms} ms`, target: '≤ 15 ms', met: known(f.latency.p99Ms) ? f.latency.p99Ms <= 15 : null });
  }
  if (f.goodput) {
    const ok = f.goodput.ratio >= 0.9 && f.goodput.failed === 0 && f.goodput.duplicates === 0;
    checks.push({
      name: 'Slack-limit goodput',
      figure: `${f.goodput.ratio} (failed ${f.goodput.failed}, duplicates ${f.goodput.duplicates})`,
      target: '≥ 0.9, none failed or doubled',
      met: known(f.goodput.ratio) ? ok : null,
    });
  }
  if (f.storm) {
    const { allDeliveredS, posts, lost, duplicates } = f.storm;
    checks.push({
      name: 'storm: 500 to one member',
      figure: `${allDeliveredS} s, ${posts} posts (lost ${lost}, duplicates ${duplicates})`,
      target: '≤ 15 s, ≤ 25 posts, none lost or doubled',
      met: known(allDeliveredS) ? allDeliveredS <= 15 && posts <= 25 && lost === 0 && duplicates === 0 : null,
    });
  }
  if (f.fairness) {
    const { probeP99Ms, probesDelivered } = f.fairness;
    checks.push({
      name: 'fairness: another subscription under a backlog of 10,000',
      figure: `p99 ${probeP99Ms} ms (${probesDelivered}/50 delivered)`,
      target: '≤ 2 s p99 over 50',
      met: known(probeP99Ms) ? probeP99Ms <= 2000 && probesDelivered === 50 : null,
    });
  }
  if (f.alertmanager) {
    const { sequential: s, distinctMembers: d, oneMember: o, keepAlive: k } = f.alertmanager;
    checks.push({
      name: 'vs Alertmanager: one at a time',
      figure: `p50 ×${s.p50Ratio}, p95 ×${s.p95Ratio} of Alertmanager's`,
      target: 'p50 ≤ 1.5×, p95 ≤ 2×',
      met: known(s.p50Ratio, s.p95Ratio) ? s.p50Ratio <= 1.5 && s.p95Ratio <= 2 : null,
    });
    checks.push({ name: 'vs Alertmanager: distinct members', figure: `×${d.ratio} of Alertmanager's delivered/s`, target: '≥ 1.0×', met: known(d.ratio) ? d.ratio >= 1 : null });
    checks.push({ name: 'vs Alertmanager: one member', figure: `×${o.ratio} of Alertmanager's delivered/s`, target: '≥ 1.5×', met: known(o.ratio) ? o.ratio >= 1.5 : null });
    checks.push({ name: 'POST → 202 above GET /healthz', figure: `+${k.diffMs} ms p50`, target: '≤ +1 ms', met: known(k.diffMs) ? k.diffMs <= 1 : null });
  }
  if (f.memory) {
    const worst = Math.max(f.memory.webRssMb, f.memory.workerRssMb);
    checks.push({
      name: 'peak RSS',
      figure: `web ${f.memory.webRssMb} MB, worker ${f.memory.workerRssMb} MB`,
      target: '≤ 150 MB per process',
      met: known(worst) ? worst <= 150 : null,
    });
  }
  return checks;
}
