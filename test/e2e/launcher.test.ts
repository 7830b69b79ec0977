import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { createSlackSandbox, type SlackSandbox } from '../../src/sandbox/index.js';
import { freePort } from '../helpers/redis-server.js';
import { processAlive } from '../helpers/api-client.js';

/**
 * The product as a user starts it: `node dist/src/launcher/start.js` (what `npm start` runs after
 * building) reads the Procfile, applies migrations, starts web and two workers as real processes,
 * in development the Slack sandbox with a "Sandbox" subscription, and Ctrl-C (SIGINT) stops all of
 * them. `npm test` builds dist/ first (pretest).
 */
let dir: string;
let sandbox: SlackSandbox;
let launcher: ChildProcess;
let output = '';
let baseUrl: string;
let sandboxPort: number;

const childrenOf = (pid: number) =>
  execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => ({ pid: Number(line.split(/\s+/)[0]), args: line.replace(/^\d+\s+/, '') }));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-e2e-'));
  sandbox = createSlackSandbox();
  await sandbox.listen(0);
  const port = await freePort();
  sandboxPort = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  launcher = spawn(process.execPath, ['dist/src/launcher/start.js'], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'development',
      PORT: String(port),
      REDIS_URL: inject('redisUrl'),
      QUEUE_PREFIX: `e2e${randomBytes(4).toString('hex')}`,
      DATABASE_PATH: join(dir, 'relay.db'),
      SLACK_API_URL: sandbox.apiUrl,
      SANDBOX_PORT: String(sandboxPort),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  launcher.stdout!.on('data', (chunk) => (output += chunk));
  launcher.stderr!.on('data', (chunk) => (output += chunk));
  for (let i = 0; i < 300; i++) {
    const ready = await fetch(`${baseUrl}/readyz`).then((r) => r.status === 200, () => false);
    if (ready && output.includes('press Ctrl-C')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the relay did not become ready:\n${output}`);
});

afterAll(async () => {
  if (launcher.exitCode === null) {
    // never leave the launcher's (detached) children behind, whatever failed
    for (const child of childrenOf(launcher.pid!)) process.kill(child.pid, 'SIGKILL');
    launcher.kill('SIGKILL');
  }
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('npm start (the launcher)', () => {
  it('runs web and two workers from the Procfile, the sandbox, and generated development credentials', () => {
    const args = childrenOf(launcher.pid!).map((c) => c.args);
    expect(args.filter((a) => a.includes('dist/src/server.js'))).toHaveLength(1);
    expect(args.filter((a) => a.includes('dist/workers/worker.js'))).toHaveLength(2);
    expect(args.filter((a) => a.includes('dist/src/sandbox/main.js'))).toHaveLength(1);
    expect(output).toContain(join(dir, 'credentials.env'));
    expect(output).toMatch(/release\s*\| Migrations applied/);
  });

  it('delivers an alert within a second of acceptance, with the bot token', async () => {
    // subscriptions need the admin key; alerts go with the intake key
    const apiKey = /^API_KEYS=(.+)$/m.exec(readFileSync(join(dir, 'credentials.env'), 'utf8'))![1]!.split(',')[0]!;
    const adminKey = /^ADMIN_API_KEYS=(.+)$/m.exec(readFileSync(join(dir, 'credentials.env'), 'utf8'))![1]!.split(',')[0]!;
    const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
    const token = 'xoxb-2468013579-e2ee2ee2ee2ee2e';
    const sub = await fetch(`${baseUrl}/api/v1/subscriptions`, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${adminKey}` },
      body: JSON.stringify({ name: 'Ops', version: 'v1.0', apiUrl: sandbox.apiUrl, apiToken: token, clientId: '1.2', recipient: 'alice@example.com' }),
    }).then((r) => r.json() as Promise<{ id: string }>);
    const started = Date.now();
    const accepted = await fetch(`${baseUrl}/api/v1/alerts`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ subscription: 'ops', text: 'Disk almost full' }),
    });
    expect(accepted.status).toBe(202);
    const { id } = (await accepted.json()) as { id: string };
    const [message] = await sandbox.waitForMessages(1, { user: 'U0ALICE', timeoutMs: 5000 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(message!.token).toBe(token);

    let record: any;
    for (let i = 0; i < 50 && record?.status !== 'delivered'; i++) {
      record = await fetch(`${baseUrl}/api/v1/alerts/${id}`, { headers }).then((r) => r.json());
      if (record.status !== 'delivered') await new Promise((r) => setTimeout(r, 50));
    }
    expect(record).toMatchObject({ status: 'delivered', tokenSource: 'bot_token', subscriptionId: sub.id, slack: { ts: message!.ts } });
  });

  it('creates a "Sandbox" subscription, so the README’s first curl delivers a DM shown on the sandbox page', async () => {
    const apiKey = /^API_KEYS=(.+)$/m.exec(readFileSync(join(dir, 'credentials.env'), 'utf8'))![1]!.split(',')[0]!;
    const res = await fetch(`${baseUrl}/api/v1/alerts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subscription: 'sandbox', text: 'Hello from the README' }),
    });
    expect(res.status).toBe(202);
    let inbox = '';
    for (let i = 0; i < 50 && !inbox.includes('Hello from the README'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      inbox = await fetch(`http://127.0.0.1:${sandboxPort}/`).then((r) => r.text());
    }
    expect(inbox).toContain('Hello from the README');
  });

  it('stops every process it started on Ctrl-C (SIGINT) and exits 0', async () => {
    const children = childrenOf(launcher.pid!).map((c) => c.pid);
    expect(children).toHaveLength(4);
    const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
    launcher.kill('SIGINT');
    expect(await exited).toBe(0);
    for (const pid of children) expect(processAlive(pid), `pid ${pid} still running`).toBe(false);
    expect(output).toMatch(/worker\.1\s*\| exited \(code 0\)/);
    expect(output).toMatch(/web\s*\| exited \(code 0\)/);
  });
});
