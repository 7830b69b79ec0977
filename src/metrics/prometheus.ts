import type { RedisClient } from '../queues/redis.js';
import promClient, { type Metric } from 'prom-client';
import { TRANSFERS } from '../domain.js';
import type { AlertStore } from '../db/stores.js';
import type { RedisKeys } from '../limits/redis-keys.js';
import type { AlertQueues } from '../queues/alert-queues.js';
import { QUEUE_NAMES } from '../queues/names.js';

const { Counter, Gauge, Registry } = promClient;

/**
 * /metrics in Prometheus text format (prom-client). The alert counters are counted from the
 * durable records at each scrape, so they are exact and the same whichever web process is
 * scraped; queue depth comes from BullMQ; Slack 429s from a counter the workers keep in Redis.
 * Labels carry subscription ids and error codes (already typed on entry), never names or tokens.
 */

const LATENCY_BOUNDS_MS = [50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000];
const JOB_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const;

export interface MetricsDeps {
  alerts: AlertStore;
  queues: AlertQueues;
  redis: RedisClient;
  keys: RedisKeys;
}

export class RelayMetrics {
  private readonly registry = new Registry();
  private readonly accepted = new Counter({ name: 'relay_alerts_accepted_total', help: 'Alerts accepted (202), by subscription.', labelNames: ['subscription'], registers: [this.registry] });
  private readonly delivered = new Counter({ name: 'relay_alerts_delivered_total', help: 'Alerts delivered to Slack, by subscription.', labelNames: ['subscription'], registers: [this.registry] });
  private readonly failed = new Counter({
    name: 'relay_alerts_failed_total',
    help: 'Alerts failed for good, by subscription and reason (Slack error code).',
    labelNames: ['subscription', 'reason'],
    registers: [this.registry],
  });
  private readonly suppressed = new Counter({
    name: 'relay_alerts_suppressed_total',
    help: 'Alerts that posted nothing, by subscription and reason (duplicate, nothing_to_resolve).',
    labelNames: ['subscription', 'reason'],
    registers: [this.registry],
  });
  private readonly queueJobs = new Gauge({ name: 'relay_queue_jobs', help: 'Jobs in each delivery queue, by state.', labelNames: ['queue', 'state'], registers: [this.registry] });
  private readonly rateLimited = new Counter({ name: 'relay_slack_rate_limited_total', help: 'Slack answers of HTTP 429 (rate limited).', registers: [this.registry] });
  private readonly redisUp = new Gauge({ name: 'relay_redis_up', help: 'Whether Redis answered this scrape.', registers: [this.registry] });
  private latency = { cumulative: LATENCY_BOUNDS_MS.map(() => 0), sumMs: 0, count: 0 };
  /** scrapes one at a time: each one resets and refills the same metrics */
  private scraping: Promise<string> = Promise.resolve('');

  constructor(private readonly deps: MetricsDeps) {
    this.registry.registerMetric(this.latencyHistogram());
  }

  readonly contentType = this.registry.contentType;

  render(): Promise<string> {
    this.scraping = this.scraping.catch(() => '').then(() => this.scrape());
    return this.scraping;
  }

  private async scrape(): Promise<string> {
    const [counts, latency] = await Promise.all([this.deps.alerts.countsByOutcome(), this.deps.alerts.latencyHistogram(LATENCY_BOUNDS_MS)]);
    this.registry.resetMetrics();
    for (const row of counts) {
      this.accepted.inc({ subscription: row.subscriptionId }, row.count);
      if (row.status === 'delivered') this.delivered.inc({ subscription: row.subscriptionId }, row.count);
      if (row.status === 'failed') this.failed.inc({ subscription: row.subscriptionId, reason: row.errorCode ?? 'unknown' }, row.count);
      if (row.status === 'suppressed') this.suppressed.inc({ subscription: row.subscriptionId, reason: row.errorCode ?? 'unknown' }, row.count);
    }
    this.latency = latency;
    try {
      const [rateLimited, ...jobCounts] = await Promise.all([
        this.deps.redis.get(this.deps.keys.slack429Count),
        ...TRANSFERS.map((transfer) => this.deps.queues.byKind[transfer].getJobCounts(...JOB_STATES)),
      ]);
      TRANSFERS.forEach((transfer, i) => {
        for (const state of JOB_STATES) this.queueJobs.set({ queue: QUEUE_NAMES[transfer], state }, jobCounts[i]![state] ?? 0);
      });
      this.rateLimited.inc(Number(rateLimited ?? 0));
      this.redisUp.set(1);
    } catch {
      this.redisUp.set(0);
    }
    return this.registry.metrics();
  }

  /** Delivered alerts' latency, accepted → Slack ok: a histogram whose buckets are counted by the database. */
  private latencyHistogram(): Metric {
    const name = 'relay_delivery_latency_seconds';
    const help = 'Time from acceptance to Slack answering ok.';
    return {
      name,
      help,
      type: 'histogram',
      aggregator: 'sum',
      collect: () => {},
      reset: () => {},
      get: async () => ({
        name,
        help,
        type: 'histogram',
        aggregator: 'sum',
        values: [
          ...LATENCY_BOUNDS_MS.map((bound, i) => ({ metricName: `${name}_bucket`, labels: { le: bound / 1000 }, value: this.latency.cumulative[i] ?? 0 })),
          { metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: this.latency.count },
          { metricName: `${name}_sum`, labels: {}, value: this.latency.sumMs / 1000 },
          { metricName: `${name}_count`, labels: {}, value: this.latency.count },
        ],
      }),
    } as unknown as Metric;
  }
}
