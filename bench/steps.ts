// Where one alert's time goes (issue 15): the relay at LOG_LEVEL=debug logs each intake's steps
// (up to the jobs in Redis) and each delivery attempt's (from the worker taking the job up to the
// recorded outcome), with sub-millisecond wall-clock times; this scenario sends alerts one at a
// time, as the Alertmanager comparison does, and reads the two logs back, joined by alert id.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { preciseNow } from '../src/lib/step-timer.js';
import { relayPostOne } from './alertmanager.js';
import { Relay } from './lib/relay.js';
import { percentile, round } from './lib/stats.js';
import type { BenchContext } from './scenarios.js';

export interface StepsFigures {
  /** POST sent → the stand-in's chat.postMessage, ms (its clock has 1 ms resolution) */
  totalP50Ms: number;
  /** the p50 of each step, ms, in the order an alert passes them */
  stepsP50Ms: Record<string, number>;
}

const WORKERS = 2;
const MEMBER = 'U0ALICE';

export function stepsSizes(quick: boolean) {
  return quick ? { n: 50, warm: 10 } : { n: 200, warm: 20 };
}

interface IntakeLine { alertIds: string[]; steps: Record<string, number>; startedAt: number; queuedAt: number }
interface DeliveryLine { alertId: string; outcome: string; steps: Record<string, number>; startedAt: number }

function logLines<T>(file: string, msg: string): T[] {
  const out: T[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes(`"msg":"${msg}"`)) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a line cut off at exit
    }
  }
  return out;
}

export async function stepsScenario(ctx: BenchContext): Promise<{ figures: StepsFigures; details: unknown }> {
  const { n, warm } = stepsSizes(ctx.quick);
  const scenario = 'steps';
  await ctx.redis.flush();
  await ctx.sandbox.reset();
  const relay = new Relay({
    root: ctx.root,
    runDir: ctx.runDir,
    redisUrl: ctx.redis.url,
    slackApiUrl: ctx.sandbox.apiUrl,
    scenario,
    peaks: ctx.peaks,
    database: ctx.postgres ? (name) => ctx.postgres!.createDatabase(name) : undefined,
    env: { LOG_LEVEL: 'debug' },
  });
  /** alert id → the driver's times: POST sent, 202 read */
  const sent = new Map<string, { sentAt: number; answeredAt: number }>();
  try {
    await relay.startWeb();
    await relay.createSubscription();
    await relay.startWorkers(WORKERS);
    let expected = 0;
    for (let i = 0; i < warm + n; i++) {
      const sentAt = preciseNow();
      const id = await relayPostOne(relay, { title: 'bench', severity: 'warning', text: `steps ${i}`, recipient: MEMBER });
      if (i >= warm) sent.set(id, { sentAt, answeredAt: preciseNow() });
      expected += 1;
      expected = (await ctx.sandbox.waitCount(expected, 10_000)).alerts;
    }
  } finally {
    await relay.stop();
  }
  const intake = new Map<string, IntakeLine>();
  for (const line of logLines<IntakeLine>(join(ctx.runDir, `${scenario}-web.log`), 'intake steps')) intake.set(line.alertIds[0]!, line);
  const delivery = new Map<string, DeliveryLine>();
  for (let w = 1; w <= WORKERS; w++) {
    for (const line of logLines<DeliveryLine>(join(ctx.runDir, `${scenario}-worker${w}.log`), 'delivery steps')) {
      if (line.outcome === 'delivered') delivery.set(line.alertId, line);
    }
  }
  const postedAt = new Map<string, number>();
  for (const message of await ctx.sandbox.messages()) for (const id of message.alertIds) postedAt.set(id, message.at);

  const samples = new Map<string, number[]>();
  const add = (step: string, ms: number) => (samples.get(step) ?? samples.set(step, []).get(step)!).push(ms);
  const totals: number[] = [];
  let joined = 0;
  for (const [id, driver] of sent) {
    const web = intake.get(id);
    const worker = delivery.get(id);
    const at = postedAt.get(id);
    if (!web || !worker || at === undefined) continue;
    joined += 1;
    add('request (driver → web)', web.startedAt - driver.sentAt);
    for (const [step, ms] of Object.entries(web.steps)) add(`intake: ${step}`, ms);
    add('202 (web → driver)', driver.answeredAt - web.queuedAt);
    add('worker pick-up (queued → worker)', worker.startedAt - web.queuedAt);
    for (const [step, ms] of Object.entries(worker.steps)) add(`delivery: ${step}`, ms);
    totals.push(at - driver.sentAt);
  }
  const stepsP50Ms = Object.fromEntries([...samples].map(([step, values]) => [step, round(percentile(values, 50), 2)]));
  return {
    figures: { totalP50Ms: round(percentile(totals, 50), 1), stepsP50Ms },
    details: {
      alerts: n,
      warmup: warm,
      joined,
      workers: WORKERS,
      totalP95Ms: round(percentile(totals, 95), 1),
      stepsP95Ms: Object.fromEntries([...samples].map(([step, values]) => [step, round(percentile(values, 95), 2)])),
      measured:
        'the relay at LOG_LEVEL=debug: intake steps from the request arriving to the jobs in Redis, delivery steps from the worker taking the job; ' +
        'wall-clock times with sub-ms resolution (performance.timeOrigin + now) across processes of one machine; the delivery\'s "post" is the Slack client\'s call, answer included',
    },
  };
}
