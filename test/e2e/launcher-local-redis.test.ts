import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processAlive } from '../helpers/api-client.js';

/**
 * `npm start` with no REDIS_URL on a machine where Redis is installed but not running. A network
 * namespace of the test's own gives the launcher a loopback where nothing answers on 6379 (the
 * machine's own Redis stays untouched), so it must start redis-server itself, and stop it again.
 */
const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'relay-start-'));
  dirs.push(dir);
  return dir;
};

function descendants(pid: number): number[] {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  const rows = out.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  const found: number[] = [];
  const walk = (parent: number) => rows.filter(([, ppid]) => ppid === parent).forEach(([child]) => (found.push(child!), walk(child!)));
  walk(pid);
  return found;
}


describe('npm start without a running Redis', () => {
  it('starts redis-server (AOF, data in ./data/redis), becomes ready, and stops everything on Ctrl-C', async () => {
    const dir = tempDir();
    const launcher = spawn('/usr/bin/unshare', ['-n', '/bin/sh', '-c', 'ip link set lo up && exec node dist/src/launcher/start.js'], {
      env: { PATH: process.env.PATH, NODE_ENV: 'development', DATABASE_PATH: join(dir, 'relay.db') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    launcher.stdout!.on('data', (chunk) => (output += chunk));
    launcher.stderr!.on('data', (chunk) => (output += chunk));
    const inNamespace = (url: string) =>
      new Promise<string>((resolve) => {
        const curl = spawn('nsenter', ['-t', String(launcher.pid), '-n', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', url]);
        let code = '';
        curl.stdout.on('data', (c) => (code += c));
        curl.on('exit', () => resolve(code));
      });
    try {
      const started = Date.now();
      let status = '';
      while (Date.now() - started < 60_000 && status !== '200') {
        await new Promise((r) => setTimeout(r, 250));
        status = await inNamespace('http://127.0.0.1:3000/readyz');
      }
      expect(status, output).toBe('200');
      expect(output).toContain('starting redis-server');
      expect(existsSync(join(dir, 'redis', 'appendonlydir'))).toBe(true);

      const started_ = descendants(launcher.pid!);
      expect(started_.length).toBeGreaterThanOrEqual(5); // redis, sandbox, web, 2 workers
      const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
      launcher.kill('SIGINT');
      expect(await exited).toBe(0);
      for (const pid of started_) expect(processAlive(pid), `pid ${pid} left running:\n${output}`).toBe(false);
      expect(output).toMatch(/redis\s*\| exited/);
    } finally {
      for (const pid of descendants(launcher.pid!)) process.kill(pid, 'SIGKILL');
      if (launcher.exitCode === null) launcher.kill('SIGKILL');
    }
  }, 90_000);

  it('says how to install Redis when there is none', async () => {
    const dir = tempDir();
    const bin = join(dir, 'bin');
    execFileSync('mkdir', [bin]);
    symlinkSync(process.execPath, join(bin, 'node'));
    // The machine's own Redis answers on its 6379: only a namespace makes this a machine without one.
    const launcher = spawn('/usr/bin/unshare', ['-n', '/bin/sh', '-c', 'exec node dist/src/launcher/start.js'], {
      env: { PATH: bin, NODE_ENV: 'development', DATABASE_PATH: join(dir, 'relay.db') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    launcher.stdout!.on('data', (chunk) => (output += chunk));
    launcher.stderr!.on('data', (chunk) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => launcher.once('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(output).toContain('apt-get install redis-server');
    expect(output).toContain('REDIS_URL');
  });
});
