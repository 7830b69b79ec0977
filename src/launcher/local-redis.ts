import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { resolve } from 'node:path';
import type { Supervisor } from './supervisor.js';

/** Does anything answer PING on host:port? (A bare TCP check would accept any server.) */
export function redisAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => finish(data.toString().startsWith('+PONG')));
  });
}

export const INSTALL_REDIS_HINT =
  'Redis is not running and redis-server is not installed. Install it (Debian/Ubuntu: ' +
  '"sudo apt-get install redis-server"; macOS: "brew install redis"), or set REDIS_URL to a running Redis.';

/**
 * Starts redis-server for `npm start` when REDIS_URL is unset and nothing answers on 6379:
 * data in ./data/redis, AOF on (fsync every second), and `noeviction`, because BullMQ must never
 * have its keys evicted.
 */
export async function startLocalRedis(supervisor: Supervisor, dataDir: string, port = 6379): Promise<void> {
  if (spawnSync('redis-server', ['--version']).error) throw new Error(INSTALL_REDIS_HINT);
  const dir = resolve(dataDir, 'redis');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  supervisor.start({
    name: 'redis',
    command: [
      'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--dir', JSON.stringify(dir),
      '--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction',
      '--save', '""',
    ].join(' '),
  });
  for (let waited = 0; waited < 10_000; waited += 100) {
    if (await redisAnswers('127.0.0.1', port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis-server did not answer on port ${port} within 10 s`);
}
