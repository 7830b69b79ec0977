// Baseline for the intake scenario: a bare Express 5 handler that only parses the JSON body and
// calls queue.add on the same Redis. No validation, no SQLite, no auth.
//   PORT=… REDIS_URL=… QUEUE_PREFIX=… node --import tsx bench/baseline/bare-web.ts
import express from 'express';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { baselineJob, type BaselineMessage } from './job-shape.js';

const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
const queue = new Queue('bench-bare', { connection: redis, prefix: process.env.QUEUE_PREFIX ?? 'bench' });

const app = express();
app.disable('x-powered-by');
app.post('/api/v1/alerts', express.json({ limit: '64kb' }), async (req, res) => {
  const body = req.body as BaselineMessage & { recipient?: string };
  const job = baselineJob({ title: body.title, text: body.text, severity: body.severity ?? 'info' }, body.recipient);
  await queue.add(job.name, job.data, job.opts);
  res.status(202).json({ id: job.data.alertId, status: 'queued' });
});

const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('bare-web listening'));
const stop = () => {
  server.close();
  server.closeIdleConnections();
  void queue.close().finally(() => {
    redis.disconnect();
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
