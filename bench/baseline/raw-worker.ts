// Baseline for the delivery scenario: a raw BullMQ worker (its own process) that makes the same
// single chat.postMessage call per job with @slack/web-api's WebClient against the stand-in,
// with the relay's worker concurrency and client settings. No SQLite, no leases, no token vault.
//   REDIS_URL=… QUEUE_PREFIX=… SLACK_API_URL=… WORKER_CONCURRENCY=50 node --import tsx bench/baseline/raw-worker.ts
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import slackWebApi from '@slack/web-api';
import { baselineBlocks, type BaselineJob } from './job-shape.js';

const { WebClient, LogLevel } = slackWebApi;
const connection = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
const client = new WebClient(process.env.SLACK_TOKEN ?? 'xoxb-1000000001-2000000002-rawRAWrawRAWrawRAW', {
  slackApiUrl: process.env.SLACK_API_URL!,
  timeout: 10_000,
  rejectRateLimitedCalls: true,
  retryConfig: { retries: 0 },
  logLevel: LogLevel.ERROR,
});

const worker = new Worker<BaselineJob>(
  process.env.QUEUE_NAME ?? 'bench-raw',
  async (job) => {
    const { text, blocks } = baselineBlocks(job.data.message);
    const result = await client.chat.postMessage({ channel: job.data.recipient, text, blocks: blocks as any, unfurl_links: false });
    if (!result.ok) throw new Error(result.error ?? 'not ok');
    return { ts: result.ts };
  },
  {
    connection,
    prefix: process.env.QUEUE_PREFIX ?? 'bench',
    concurrency: Number(process.env.WORKER_CONCURRENCY ?? 50),
  },
);
worker.on('error', () => {});
await worker.waitUntilReady();
console.log('raw-worker ready');

const stop = () => {
  void worker.close().finally(() => {
    connection.disconnect();
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
