import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startProc, waitFor, type Proc } from './proc.js';

/** The benchmark's own redis-server on a free port (never 6379), no persistence. */
export interface BenchRedis {
  port: number;
  url: string;
  version: string;
  proc: Proc;
  /** a plain client for FLUSHALL, INFO and the baselines' bookkeeping */
  client: Redis;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedis(runDir: string): Promise<BenchRedis> {
  let port = await freePort();
  if (port === 6379) port = await freePort();
  const dir = mkdtempSync(join(runDir, 'redis-'));
  const proc = startProc(
    'redis-server',
    'redis-server',
    [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
      '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction',
    ],
    { env: process.env, logFile: join(runDir, 'redis.log') },
  );
  const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  await waitFor('redis-server to answer PING', async () => {
    if (!proc.alive()) throw new Error(`redis-server exited:\n${proc.tail()}`);
    if (client.status !== 'ready') await client.connect().catch(() => {});
    return (await client.ping()) === 'PONG';
  }, { timeoutMs: 10_000 });
  const info = await client.info('server');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    version,
    proc,
    client,
    async flush() {
      await client.flushall();
    },
    async stop() {
      client.disconnect();
      await proc.stop(2000);
    },
  };
}
