// CPU per alert of the intake path in one process, without HTTP: what BENCHMARKS.md's "What bounds
// batch intake" table is made of. Not part of `npm run bench` (a diagnostic, not a scenario).
//
//   node_modules/.bin/tsx bench/intake-cpu.ts [--single]
//
// Three measurements, each on a fresh SQLite file and its own redis-server (never 6379):
//   raw-addbulk      BullMQ addBulk of the baseline's job shape, 100 a call, 10 calls in flight
//   intake           the relay's body parser and AlertIntake.accept: validation, subscription
//                    lookup, record, reservation, addBulk
//   intake-no-redis  the same with the queue and the throttle replaced by no-ops
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { AlertIntake } from '../src/alerts/alert-intake.js';
import type { IntakeQuota } from '../src/alerts/intake-quota.js';
import { loadConfig } from '../src/config.js';
import { openStores } from '../src/db/open-stores.js';
import { parseAlertBody, parseBatchBody } from '../src/http/formats/relay-alert.js';
import { redisKeys } from '../src/limits/redis-keys.js';
import { SubscriptionThrottle } from '../src/limits/subscription-throttle.js';
import { createVault } from '../src/lib/vault.js';
import { AlertQueues } from '../src/queues/alert-queues.js';
import { createRedis } from '../src/queues/redis.js';
import { baselineJob } from './baseline/job-shape.js';
import { startRedis } from './lib/redis.js';
import { OPEN_THROTTLE } from './lib/relay.js';

const single = process.argv.includes('--single');
const LANES = single ? 50 : 10;
const PER_CALL = single ? 1 : 100;
const WARM = 20_000;
const MEASURED = 100_000;
const ALERT = { subscription: 'bench', title: 'db-1', text: 'Disk 95% full on db-1', severity: 'warning' } as const;

/** Runs `call` (which handles PER_CALL alerts) from LANES concurrent lanes until `n` alerts are done. */
async function drive(n: number, call: () => Promise<unknown>): Promise<void> {
  let done = 0;
  const lane = async () => {
    while (done < n) {
      done += PER_CALL;
      await call();
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
}

async function measure(name: string, call: () => Promise<unknown>): Promise<void> {
  await drive(WARM, call);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await drive(MEASURED, call);
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  console.log(
    `${name.padEnd(16)} CPU ${((cpu.user + cpu.system) / MEASURED).toFixed(1).padStart(5)} µs/alert, wall ${((wall * 1000) / MEASURED).toFixed(1).padStart(5)} µs/alert`,
  );
}

async function scenario(name: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'intake-cpu-'));
  const redisServer = await startRedis(dir);
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_PATH: join(dir, 'relay.db'),
    REDIS_URL: redisServer.url,
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    API_KEYS: randomBytes(16).toString('hex'),
    ADMIN_PASSWORD: randomBytes(12).toString('hex'),
  });
  const redis = createRedis(config.redisUrl, 'producer');
  const stores = await openStores(config, { migrate: true });
  const vault = createVault(config.encryptionKey);
  const queues = new AlertQueues(redis, config);
  try {
    await queues.ready(5000);
    if (name === 'raw-addbulk') {
      const queue = new Queue('bench-raw', { connection: redis, prefix: 'raw' });
      await measure(name, () => queue.addBulk(Array.from({ length: PER_CALL }, () => baselineJob(ALERT))));
      await queue.close();
      return;
    }
    const now = Date.now();
    await stores.subscriptions.insert({
      id: 'sub_BENCH', name: 'Bench', nameKey: 'bench', version: 'v1.0', apiUrl: 'http://127.0.0.1:9/api/',
      apiTokenSealed: vault.seal('xoxb-bench'), apiTokenMask: 'xoxb-…', clientId: '1.2', recipient: 'U0ALICE',
      throttle: OPEN_THROTTLE, reauthRequired: false, teamId: null, teamName: null, lastSync: null,
      createdAt: now, updatedAt: now,
    });
    const offline = name === 'intake-no-redis';
    const noQuota: IntakeQuota = { consume: async () => {} };
    const intake = new AlertIntake({
      alerts: stores.alerts,
      subscriptions: stores.subscriptions,
      quota: noQuota,
      queues: offline ? ({ add: async () => {} } as unknown as AlertQueues) : queues,
      throttle: offline
        ? ({ reserve: async (_s: string, _k: string, _t: unknown, n: number) => Array.from({ length: n }, () => ({ delayMs: 0, rank: 1 })) } as unknown as SubscriptionThrottle)
        : new SubscriptionThrottle(redis, redisKeys(config.queuePrefix)),
    });
    // bodies as express.json would hand them over: fresh objects every request
    const body = JSON.stringify(single ? ALERT : { alerts: Array.from({ length: PER_CALL }, (_, i) => ({ ...ALERT, text: `${ALERT.text} #${i}` })) });
    await measure(name, () =>
      intake.accept(single ? [parseAlertBody(JSON.parse(body), undefined)] : parseBatchBody(JSON.parse(body), undefined), { caller: null }),
    );
  } finally {
    await queues.close();
    redis.disconnect();
    await stores.close();
    await redisServer.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`${single ? 'single alerts, 50' : 'batches of 100, 10'} in flight; ${MEASURED} alerts measured after ${WARM}`);
for (const name of ['raw-addbulk', 'intake', 'intake-no-redis']) await scenario(name);
