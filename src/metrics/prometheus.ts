import type { Redis } from 'ioredis';
import type { AlertStore } from '../alerts/alert-store.js';
import type { AlertQueues } from '../queues/alert-queues.js';
import { QUEUE_NAMES, TRANSFER_KINDS } from '../queues/names.js';

/**
 * /metrics in Prometheus text format. Counters come from the durable records in SQLite, so they
 * are exact and the same whichever web process is scraped; queue depth from BullMQ; Slack 429s
 * from a counter the workers keep in Redis. Labels carry subscription ids, never names or tokens.
 */

const LATENCY_BOUNDS_MS = [50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000];
const JOB_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const;

export interface MetricsDeps {
  alerts: AlertStore;
  queues: AlertQueues;
  redis: Redis;
  keyPrefix: string;
}

export async function renderMetrics(deps: MetricsDeps): Promise<string> {
  const out: string[] = [];
  const family = (name: string, type: 'counter' | 'gauge' | 'histogram', help: string) =>
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

  const counts = deps.alerts.countsByOutcome();
  const accepted = new Map<string, number>();
  const delivered = new Map<string, number>();
  for (const row of counts) {
    accepted.set(row.subscriptionId, (accepted.get(row.subscriptionId) ?? 0) + row.count);
    if (row.status === 'delivered') delivered.set(row.subscriptionId, (delivered.get(row.subscriptionId) ?? 0) + row.count);
  }
  family('relay_alerts_accepted_total', 'counter', 'Alerts accepted (202), by subscription.');
  for (const [id, n] of accepted) out.push(`relay_alerts_accepted_total{subscription="${label(id)}"} ${n}`);
  family('relay_alerts_delivered_total', 'counter', 'Alerts delivered to Slack, by subscription.');
  for (const [id, n] of delivered) out.push(`relay_alerts_delivered_total{subscription="${label(id)}"} ${n}`);
  family('relay_alerts_failed_total', 'counter', 'Alerts failed for good, by subscription and reason (Slack error code).');
  for (const row of counts.filter((r) => r.status === 'failed')) {
    out.push(`relay_alerts_failed_total{subscription="${label(row.subscriptionId)}",reason="${label(row.errorCode ?? 'unknown')}"} ${row.count}`);
  }

  const latency = deps.alerts.latencyHistogram(LATENCY_BOUNDS_MS);
  family('relay_delivery_latency_seconds', 'histogram', 'Time from acceptance to Slack answering ok.');
  LATENCY_BOUNDS_MS.forEach((bound, i) => out.push(`relay_delivery_latency_seconds_bucket{le="${bound / 1000}"} ${latency.cumulative[i]}`));
  out.push(`relay_delivery_latency_seconds_bucket{le="+Inf"} ${latency.count}`);
  out.push(`relay_delivery_latency_seconds_sum ${latency.sumMs / 1000}`, `relay_delivery_latency_seconds_count ${latency.count}`);

  try {
    const [rateLimited, ...jobCounts] = await Promise.all([
      deps.redis.get(`${deps.keyPrefix}:metrics:slack-429`),
      ...TRANSFER_KINDS.map((kind) => deps.queues.byKind[kind].getJobCounts(...JOB_STATES)),
    ]);
    family('relay_queue_jobs', 'gauge', 'Jobs in each delivery queue, by state.');
    TRANSFER_KINDS.forEach((kind, i) => {
      for (const state of JOB_STATES) out.push(`relay_queue_jobs{queue="${QUEUE_NAMES[kind]}",state="${state}"} ${jobCounts[i]![state] ?? 0}`);
    });
    family('relay_slack_rate_limited_total', 'counter', 'Slack answers of HTTP 429 (rate limited).');
    out.push(`relay_slack_rate_limited_total ${Number(rateLimited ?? 0)}`);
    family('relay_redis_up', 'gauge', 'Whether Redis answered this scrape.');
    out.push('relay_redis_up 1');
  } catch {
    family('relay_redis_up', 'gauge', 'Whether Redis answered this scrape.');
    out.push('relay_redis_up 0');
  }
  return `${out.join('\n')}\n`;
}

const label = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
