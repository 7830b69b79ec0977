import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../src/sandbox/main.ts', import.meta.url));

/** Runs main.ts through tsx's loader in a plain node process, so signals reach it directly. */
function runMain(args: string[], env: Record<string, string | undefined>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { ...process.env, NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('sandbox CLI (main.ts)', () => {
  it('refuses to start with NODE_ENV=production', async () => {
    const { child, output } = runMain([], { NODE_ENV: 'production' });
    expect(await exitCode(child)).toBe(1);
    expect(output()).toMatch(/refusing to start with NODE_ENV=production/);
  }, 20_000);

  it('prints its URLs, serves the API and stops cleanly on SIGTERM', async () => {
    const { child, output } = runMain(['--port', '0'], { SLACK_CLIENT_ID: '1.2', SLACK_CLIENT_SECRET: 's' });
    const exited = exitCode(child);
    let apiUrl = '';
    for (let i = 0; i < 200 && !apiUrl; i++) {
      apiUrl = /Slack API URL: (\S+)/.exec(output())?.[1] ?? '';
      if (!apiUrl) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
    expect(output()).toContain('OAuth: client 1.2');
    const response = await fetch(`${apiUrl}oauth.v2.access`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: 'other', client_secret: 's', code: 'x' }),
    });
    expect(await response.json()).toEqual({ ok: false, error: 'invalid_client_id' });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 20_000);
});
