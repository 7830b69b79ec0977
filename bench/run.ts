// The Slack Alert Relay benchmark.
//
//   npm run bench                               full run (≈ 3½–4 min on two cores)
//   npm run bench -- --quick --json FILE        quick run (< 4 min), figures written to FILE
//
// Options:
//   --quick            smaller scenarios (see sizes() in bench/scenarios.ts)
//   --json FILE        write the figures (and details) as JSON
//   --only a,b         run only these scenarios: intake, batch, delivery, latency, goodput, storm,
//                      fairness, steps, alertmanager (needs Debian's prometheus-alertmanager, or ALERTMANAGER_BIN)
//   --no-build         skip `tsc -p tsconfig.build.json` (dist/ must be current)
//   --cpu-prof DIR     run the relay's processes with `node --cpu-prof --cpu-prof-dir=DIR`
//   --prof-role ROLE   with --cpu-prof: web, workers or all (default all)
//   --keep             keep the run folder (logs of every process, SQLite files)
//   --db postgres      every relay's records on PostgreSQL (a server of the run's own, a database per relay)
//   --only workers     (not in the default set) delivery with 1, 2 and 3 workers, on SQLite and PostgreSQL
//
// Every run starts its own redis-server on a free port, the Slack stand-in (bench/sandbox-host.ts)
// as its own process, and the relay as separate processes, started with the Procfile's commands (web,
// worker) and their node flags. Nothing on port 6379 is touched.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkTargets, type Figures } from './lib/figures.js';
import { cpuShares, cpuSnapshot, waitForQuiet } from './lib/machine.js';
import { killStartedProcs } from './lib/proc.js';
import { startRedis } from './lib/redis.js';
import { procfileNodeFlags, type PeakRecord } from './lib/relay.js';
import { startSandboxProcess } from './lib/sandbox-client.js';
import { round } from './lib/stats.js';
import { ALERTMANAGER_LABEL, alertmanagerLine, alertmanagerScenario } from './alertmanager.js';
import { stepsScenario, stepsSizes, type StepsFigures } from './steps.js';
import { alertmanagerBinary } from '../test/helpers/alertmanager.js';
import {
  batchScenario,
  deliveryScenario,
  DRAIN_MEMBERS,
  FAIRNESS_BACKLOG,
  fairnessScenario,
  goodputScenario,
  intakeScenario,
  latencyScenario,
  sizes,
  STORM_ALERTS,
  stormScenario,
  workersScenario,
  type BenchContext,
} from './scenarios.js';
import { startPostgresServer, type TestPostgres } from '../test/helpers/postgres-server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ALL = ['intake', 'batch', 'delivery', 'latency', 'goodput', 'storm', 'fairness', 'steps', 'alertmanager', 'workers'] as const;
/** what a run measures unless --only says otherwise */
const DEFAULT_SCENARIOS = ['intake', 'batch', 'delivery', 'latency', 'goodput', 'storm', 'fairness', 'steps', 'alertmanager'] as const;
type ScenarioName = (typeof ALL)[number];

interface Args {
  quick: boolean;
  json?: string;
  only: ScenarioName[];
  build: boolean;
  cpuProf?: string;
  profRole: 'web' | 'workers' | 'all';
  keep: boolean;
  db: 'sqlite' | 'postgres';
  /** seconds to wait, before each scenario, for other work on the machine to calm down */
  waitIdleS?: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, only: [...DEFAULT_SCENARIOS], build: true, profRole: 'all', keep: false, db: 'sqlite' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--quick') args.quick = true;
    else if (arg === '--json') args.json = resolve(value());
    else if (arg === '--only') {
      const names = value().split(',').map((s) => s.trim()).filter(Boolean);
      for (const name of names) if (!ALL.includes(name as ScenarioName)) throw new Error(`unknown scenario ${name}; one of ${ALL.join(', ')}`);
      args.only = names as ScenarioName[];
    } else if (arg === '--no-build') args.build = false;
    else if (arg === '--cpu-prof') args.cpuProf = resolve(value());
    else if (arg === '--prof-role') args.profRole = value() as Args['profRole'];
    else if (arg === '--keep') args.keep = true;
    else if (arg === '--db') {
      const db = value();
      if (db !== 'sqlite' && db !== 'postgres') throw new Error(`--db is sqlite or postgres, not ${db}`);
      args.db = db;
    }
    else if (arg === '--wait-idle') args.waitIdleS = Number(value());
    else if (arg === '--help' || arg === '-h') {
      console.log(readUsage());
      process.exit(0);
    } else throw new Error(`unknown option ${arg} (see --help)`);
  }
  return args;
}

function readUsage(): string {
  return 'usage: npm run bench -- [--quick] [--json FILE] [--only intake,batch,delivery,latency,goodput,storm,fairness,steps,alertmanager,workers] [--db sqlite|postgres] [--no-build] [--cpu-prof DIR [--prof-role web|workers|all]] [--wait-idle S] [--keep]';
}

const fmt = (value: unknown) => (typeof value === 'number' ? (Number.isFinite(value) ? String(value) : 'n/a') : String(value ?? 'n/a'));

function printTable(figures: Partial<Figures>): void {
  const rows: [string, string, string][] = [];
  const f = figures;
  if (f.intake) {
    rows.push(['intake req/s (50 conns)', fmt(f.intake.rps), `bare Express+queue.add ${fmt(f.intake.baselineRps)}`]);
    rows.push(['intake p50 / p99 ms', `${fmt(f.intake.p50Ms)} / ${fmt(f.intake.p99Ms)}`, '']);
  }
  if (f.batch) rows.push(['batch alerts/s (100/req)', fmt(f.batch.alertsPerSec), `raw addBulk ${fmt(f.batch.baselineAlertsPerSec)}`]);
  if (f.delivery) {
    rows.push(['delivered/s, 1 worker', fmt(f.delivery.oneWorkerPerSec), `raw BullMQ worker ${fmt(f.delivery.baselinePerSec)}`]);
    rows.push(['delivered/s, 2 workers', fmt(f.delivery.twoWorkersPerSec), '']);
  }
  if (f.latency) rows.push(['latency p50/p95/p99 ms @100/s', `${fmt(f.latency.p50Ms)} / ${fmt(f.latency.p95Ms)} / ${fmt(f.latency.p99Ms)}`, '']);
  if (f.goodput) rows.push(['goodput (1 post/s/channel)', `${fmt(f.goodput.ratio)} (failed ${f.goodput.failed}, dup ${f.goodput.duplicates})`, 'ideal 20 s']);
  if (f.workers) {
    rows.push(['delivered/s, 1/2/3 workers, SQLite', f.workers.sqlite.map(fmt).join(' / '), '']);
    rows.push(['delivered/s, 1/2/3 workers, PostgreSQL', f.workers.postgres.map(fmt).join(' / '), '']);
  }
  if (f.fairness) rows.push(['fairness p50 / p99 ms (backlog of 10,000)', `${fmt(f.fairness.probeP50Ms)} / ${fmt(f.fairness.probeP99Ms)}`, 'ceiling: one start per 120 ms']);
  if (f.alertmanager) {
    const { sequential: q, distinctMembers: d, oneMember: o, keepAlive: k } = f.alertmanager;
    rows.push(['one at a time p50 / p95 ms', `${fmt(q.relayP50Ms)} / ${fmt(q.relayP95Ms)}`, `Alertmanager ${fmt(q.alertmanagerP50Ms)} / ${fmt(q.alertmanagerP95Ms)}`]);
    rows.push(['distinct members delivered/s', fmt(d.relayPerSec), `Alertmanager ${fmt(d.alertmanagerPerSec)}`]);
    rows.push(['one member delivered/s', fmt(o.relayPerSec), `Alertmanager ${fmt(o.alertmanagerPerSec)}`]);
    rows.push(['POST → 202 p50 ms (keep-alive)', fmt(k.postP50Ms), `GET /healthz ${fmt(k.healthzP50Ms)}`]);
  }
  if (f.memory) rows.push(['peak RSS MB web / worker', `${fmt(f.memory.webRssMb)} / ${fmt(f.memory.workerRssMb)}`, '']);
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length), ['scenario', 'relay', 'baseline'][c]!.length));
  const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  console.log('');
  console.log(line(['scenario', 'relay', 'baseline']));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  console.log('');
  for (const check of checkTargets(figures)) {
    const mark = check.met === null ? '  ?  ' : check.met ? ' MET ' : 'MISSED';
    console.log(`[${mark}] ${check.name}: ${check.figure} (target ${check.target})`);
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const log = (line: string) => console.log(line);
  const elapsed = () => `${round((Date.now() - started) / 1000, 0)} s`;

  if (args.build) {
    log('building (tsc -p tsconfig.build.json)…');
    execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  }
  const runDir = mkdtempSync(join(tmpdir(), 'relay-bench-'));
  if (args.cpuProf) mkdirSync(args.cpuProf, { recursive: true });
  log(`run folder ${runDir} (process logs)${args.cpuProf ? `; CPU profiles → ${args.cpuProf}` : ''}`);

  const redis = await startRedis(runDir);
  const sandbox = await startSandboxProcess(ROOT, runDir, 'sandbox', { benchMembers: DRAIN_MEMBERS });
  const peaks: PeakRecord[] = [];
  let postgres: Promise<TestPostgres> | undefined;
  const postgresServer = () => {
    postgres ??= startPostgresServer({ database: 'bench' }).then((server) => {
      log(`PostgreSQL ${server.url.replace(/\/\/[^@]*@/, '//')} (initdb and start ${round(server.startupMs / 1000, 1)} s)`);
      return server;
    });
    return postgres.then((server) => ({
      createDatabase: (name: string) => server.createDatabase(name),
      pid: () => Number(readFileSync(join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]),
    }));
  };
  const ctx: BenchContext = {
    postgres: args.db === 'postgres' ? await postgresServer() : undefined,
    postgresServer,
    root: ROOT,
    runDir,
    quick: args.quick,
    redis,
    sandbox,
    peaks,
    cpuProfDir: args.cpuProf,
    profile: { web: args.profRole !== 'workers', workers: args.profRole !== 'web' },
    log,
  };
  const figures: Partial<Figures> = {
    machine: {
      cores: cpus().length,
      node: process.version,
      redis: redis.version,
      cpuModel: cpus()[0]?.model,
      platform: `${platform()} ${release()}`,
    },
    mode: args.quick ? 'quick' : 'full',
    database: args.db,
  };
  const load: Record<string, unknown> = {};
  const details: Record<string, unknown> = {
    sizes: sizes(args.quick),
    slackStandIn: 'own process (bench/sandbox-host.ts)',
    // from the Procfile; the baselines run with the same flags as the relay process they stand for
    nodeFlags: { web: procfileNodeFlags(ROOT, 'web'), worker: procfileNodeFlags(ROOT, 'worker') },
    load,
  };
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'workers'], { cwd: ROOT, encoding: 'utf8' }).trim();
    details.code = { commit: head, uncommittedFilesInSrcAndWorkers: dirty ? dirty.split('\n').length : 0 };
  } catch {
    details.code = null;
  }
  const waitIdleMs = (args.waitIdleS ?? (args.quick ? 10 : 45)) * 1000;
  let failed = false;

  const scenarios: Record<ScenarioName, { label: string; run: () => Promise<{ figures: any; details: unknown }>; line: (f: any) => string }> = {
    intake: {
      label: 'intake (single POST /api/v1/alerts, workers stopped)',
      run: () => intakeScenario(ctx),
      line: (f: Figures['intake']) => `${f.rps} req/s, p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms; bare handler ${f.baselineRps} req/s`,
    },
    batch: {
      label: 'batch intake (100 alerts per request)',
      run: () => batchScenario(ctx),
      line: (f: Figures['batch']) => `${f.alertsPerSec} alerts/s; raw addBulk ${f.baselineAlertsPerSec} jobs/s`,
    },
    delivery: {
      label: `delivery (drain ${sizes(args.quick).deliveryN} queued alerts)`,
      run: () => deliveryScenario(ctx),
      line: (f: Figures['delivery']) => `1 worker ${f.oneWorkerPerSec}/s, 2 workers ${f.twoWorkersPerSec}/s; raw worker ${f.baselinePerSec}/s`,
    },
    latency: {
      label: 'latency (100 alerts/s, accepted → chat.postMessage)',
      run: () => latencyScenario(ctx),
      line: (f: Figures['latency']) => `p50 ${f.p50Ms} ms, p95 ${f.p95Ms} ms, p99 ${f.p99Ms} ms`,
    },
    goodput: {
      label: 'Slack-limit goodput (5 members × 20, 1 post/s/channel)',
      run: () => goodputScenario(ctx),
      line: (f: Figures['goodput']) => `ratio ${f.ratio}, failed ${f.failed}, duplicates ${f.duplicates}`,
    },
    storm: {
      label: `storm (${STORM_ALERTS} alerts to one member, 1 post/s/channel)`,
      run: () => stormScenario(ctx),
      line: (f: Figures['storm']) => `all delivered in ${f.allDeliveredS} s, ${f.posts} posts, lost ${f.lost}, duplicates ${f.duplicates}`,
    },
    fairness: {
      label: `fairness (another subscription's alerts while ${FAIRNESS_BACKLOG.toLocaleString('en')} of one fill the default ceiling)`,
      run: () => fairnessScenario(ctx),
      line: (f: Figures['fairness']) => `p50 ${f.probeP50Ms} ms, p99 ${f.probeP99Ms} ms (${f.probesDelivered}/50); backlog delivered meanwhile ${f.backlogDelivered}`,
    },
    steps: {
      label: `where the time goes (${stepsSizes(args.quick).n} alerts one at a time, the relay at LOG_LEVEL=debug)`,
      run: () => stepsScenario(ctx),
      line: (f: StepsFigures) => `p50 ${f.totalP50Ms} ms: ${Object.entries(f.stepsP50Ms).map(([step, ms]) => `${step} ${ms}`).join(', ')}`,
    },
    alertmanager: {
      label: ALERTMANAGER_LABEL,
      run: () => alertmanagerScenario(ctx),
      line: alertmanagerLine,
    },
    workers: {
      label: `delivery with 1, 2 and 3 workers, SQLite and PostgreSQL (drain ${sizes(args.quick).deliveryN} each)`,
      run: () => workersScenario(ctx),
      line: (f: Figures['workers']) => `SQLite ${f.sqlite.join(' / ')}/s, PostgreSQL ${f.postgres.join(' / ')}/s`,
    },
  };

  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal} received: stopping the benchmark processes`);
    killStartedProcs();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const order = ALL.filter((name) => args.only.includes(name));
    if (order.includes('alertmanager') && !alertmanagerBinary()) {
      order.splice(order.indexOf('alertmanager'), 1);
      log('alertmanager: skipped, no Alertmanager here: `sudo apt-get install prometheus-alertmanager` (Debian), or ALERTMANAGER_BIN=/path/to/alertmanager');
    }
    for (const [index, name] of order.entries()) {
      const scenario = scenarios[name];
      // Other work on the machine skews every figure: wait a little for quiet, and measure it.
      const quiet = await waitForQuiet(waitIdleMs);
      const busyNote = quiet.busy !== null && quiet.busy >= 0.1 ? ` (machine still ${Math.round(quiet.busy * 100)}% busy with other work after waiting ${round(quiet.waitedMs / 1000, 0)} s)` : '';
      const t = Date.now();
      log(`[${index + 1}/${order.length + 1}] ${scenario.label} …${busyNote}`);
      const cpuFrom = cpuSnapshot();
      try {
        const result = await scenario.run();
        (figures as Record<string, unknown>)[name] = result.figures;
        details[name] = result.details;
        const shares = cpuShares(cpuFrom, cpuSnapshot());
        load[name] = {
          busyBeforeStart: quiet.busy === null ? null : round(quiet.busy, 3),
          waitedForQuietS: round(quiet.waitedMs / 1000, 1),
          benchCpuShare: shares ? round(shares.ours, 3) : null,
          otherCpuShare: shares ? round(shares.others, 3) : null,
        };
        const other = shares ? `, other load ${Math.round(shares.others * 100)}%` : '';
        log(`[${index + 1}/${order.length + 1}] ${name}: ${scenario.line(result.figures)}  (${round((Date.now() - t) / 1000, 1)} s${other}, total ${elapsed()})`);
      } catch (error) {
        failed = true;
        details[name] = { error: (error as Error).message };
        log(`[${index + 1}/${order.length + 1}] ${name}: FAILED: ${(error as Error).message.split('\n').slice(0, 12).join('\n')}`);
      }
    }
    const webPeaks = peaks.filter((p) => p.role === 'web' && p.peakRssMb !== null).map((p) => p.peakRssMb!);
    const workerPeaks = peaks.filter((p) => p.role === 'worker' && p.peakRssMb !== null).map((p) => p.peakRssMb!);
    figures.memory = {
      webRssMb: webPeaks.length ? round(Math.max(...webPeaks)) : Number.NaN,
      workerRssMb: workerPeaks.length ? round(Math.max(...workerPeaks)) : Number.NaN,
    };
    details.memory = {
      method: 'VmHWM from /proc/<pid>/status of each relay process, read just before it is stopped; the maximum over all scenarios',
      perProcess: peaks.map((p) => ({ ...p, peakRssMb: p.peakRssMb === null ? null : round(p.peakRssMb) })),
    };
    log(`[${order.length + 1}/${order.length + 1}] memory: web ${figures.memory.webRssMb} MB, largest worker ${figures.memory.workerRssMb} MB peak RSS  (total ${elapsed()})`);
  } finally {
    await sandbox.stop().catch(() => {});
    await redis.stop().catch(() => {});
    if (postgres) await (await postgres).stop().catch(() => {});
    killStartedProcs();
  }

  figures.details = { ...details, targets: checkTargets(figures), durationS: round((Date.now() - started) / 1000, 1) };
  printTable(figures);
  if (args.json) {
    mkdirSync(dirname(args.json), { recursive: true });
    writeFileSync(args.json, `${JSON.stringify(figures, null, 2)}\n`);
    log(`\nfigures written to ${args.json}`);
  }
  if (args.keep || failed) log(`logs kept in ${runDir}`);
  else rmSync(runDir, { recursive: true, force: true });
  log(`done in ${elapsed()}`);
  process.exit(failed ? 1 : 0);
}

main().catch((error: unknown) => {
  console.error(`benchmark failed: ${(error as Error).stack ?? String(error)}`);
  killStartedProcs();
  process.exit(1);
});
