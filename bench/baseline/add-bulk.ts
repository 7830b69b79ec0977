// Baseline for the batch scenario: raw BullMQ addBulk of `BATCH` jobs, `CONCURRENCY` calls in
// flight, for a warm-up and then a measured period. Prints one JSON line: { jobsPerSec, … }.
//   REDIS_URL=… QUEUE_PREFIX=… CONCURRENCY=10 BATCH=100 WARMUP_MS=… DURATION_MS=… node --import tsx bench/baseline/add-bulk.ts
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { baselineJob } from './job-shape.js';

const concurrency = Number(process.env.CONCURRENCY ?? 10);
const batch = Number(process.env.BATCH ?? 100);
const warmupMs = Number(process.env.WARMUP_MS ?? 2000);
const durationMs = Number(process.env.DURATION_MS ?? 10_000);

const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
const queue = new Queue('bench-bulk', { connection: redis, prefix: process.env.QUEUE_PREFIX ?? 'bench' });

let counting = false;
let jobs = 0;
const start = Date.now();
const end = start + warmupMs + durationMs;
let seq = 0;

async function loop(): Promise<void> {
  while (Date.now() < end) {
    const items = Array.from({ length: batch }, () =>
      baselineJob({ title: 'db-1', text: `Disk 95% full on db-1 (bulk ${seq++})`, severity: 'warning' }),
    );
    await queue.addBulk(items);
    if (counting) jobs += batch;
  }
}

setTimeout(() => {
  counting = true;
}, warmupMs);
const measuredFrom = start + warmupMs;
await Promise.all(Array.from({ length: concurrency }, () => loop()));
const seconds = (Date.now() - measuredFrom) / 1000;
console.log(JSON.stringify({ jobsPerSec: jobs / seconds, jobs, seconds, concurrency, batch }));
await queue.close();
redis.disconnect();
