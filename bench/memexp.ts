import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { startRedis } from './lib/redis.js';
import { Relay } from './lib/relay.js';
import { readProcStatusMb } from './lib/proc.js';

const root = resolve('.');
const runDir = mkdtempSync(join(tmpdir(), 'memexp-'));
const redis = await startRedis(runDir);
const nodeOptions = process.argv[2] ?? '';
const relay = new Relay({ root, runDir, redisUrl: redis.url, slackApiUrl: 'http://127.0.0.1:9/api/', scenario: 'mem', peaks: [], env: nodeOptions ? { NODE_OPTIONS: nodeOptions } : {} });
const extra = (process.env.NODE_ARGS ?? '').split(' ').filter(Boolean);
(relay as any).nodeArgs = () => [...extra, join(root, 'dist/src/server.js')];
await relay.startWeb();
await relay.createSubscription();
const pid = relay.web!.pid;
console.log('idle', readProcStatusMb(pid, 'VmRSS'), 'hwm', readProcStatusMb(pid, 'VmHWM'));
const mode = process.argv[3] ?? 'single';
import { readFileSync } from 'node:fs';
const cpu = (p: number) => { const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const r0 = cpu(redis.proc.pid), w0 = cpu(pid);
const alert = { subscription: 'bench', title: 'db-1', text: 'Disk 95% full on db-1', severity: 'warning' };
const r = await autocannon({
  url: `${relay.url}/api/v1/alerts${mode === 'batch' ? '/batch' : ''}`, method: 'POST',
  headers: { authorization: `Bearer ${relay.apiKey}`, 'content-type': 'application/json' },
  body: JSON.stringify(mode === 'batch' ? { alerts: Array.from({ length: 100 }, () => alert) } : alert),
  connections: mode === 'batch' ? 10 : 50, duration: 6,
});
const n = r['2xx']; console.log('redis us/req', ((cpu(redis.proc.pid) - r0) * 1000 / n).toFixed(1), 'web us/req', ((cpu(pid) - w0) * 1000 / n).toFixed(1));
console.log('rps', r['2xx'] / r.duration, 'p99', r.latency.p99, 'rss', readProcStatusMb(pid, 'VmRSS'), 'hwm', readProcStatusMb(pid, 'VmHWM'));
await relay.stop();
await redis.stop();
console.log('log', runDir);
