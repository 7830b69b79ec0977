import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/lib/logger.js';
import { startWeb, type WebProcess } from '../../src/server.js';
import { startWorker, type WorkerProcess } from '../../workers/worker.js';
import { createSlackSandbox, type SlackSandbox, type SlackSandboxOptions } from '../../src/sandbox/index.js';
import { freePort } from './redis-server.js';
import type { Stores } from '../../src/db/stores.js';
import { databaseEnv, dbQuery } from './test-db.js';
import { apiClient, createSubscription, waitForAlert, type Api } from './api-client.js';

/**
 * A whole relay for one test file: real SQLite file, real Redis (the run's, under a prefix of its
 * own), the web app on a free port, a worker in this process, and the Slack sandbox that the
 * subscriptions point at. Logs go to a file so tests can read (and scan) them.
 */

export interface TestRelay {
  dir: string;
  config: Config;
  sandbox: SlackSandbox;
  web: WebProcess;
  worker: WorkerProcess | null;
  /** an admin key (ADMIN_API_KEYS): `api` uses it */
  apiKey: string;
  /** an intake key (API_KEYS) */
  intakeKey: string;
  /** a free port whose 127.0.0.1 origin is in ALLOWED_API_URLS, for a second Slack stand-in */
  spareApiPort: number;
  logFile: string;
  api: Api;
  /** the web process's stores (whichever database the relay uses) */
  stores: Stores;
  /** every pending OAuth state expires now */
  expireOAuthStates(): Promise<void>;
  /** the relay's environment (its database included) */
  env: Record<string, string>;
  createSubscription(overrides?: Record<string, unknown>): Promise<any>;
  waitForAlert(id: string, statuses?: string[], timeoutMs?: number): Promise<any>;
  startWorker(): Promise<WorkerProcess>;
  /** A real worker process (`node dist/workers/worker.js`, built by pretest) with this relay's settings. */
  spawnWorkerProcess(): Promise<ChildProcess>;
  close(): Promise<void>;
}

export const BOT_TOKEN = 'xoxb-1111111111-2222222222-abcdEFGHijklMNOPqrst';

export async function startTestRelay(
  options: {
    env?: Record<string, string>;
    worker?: boolean;
    sandbox?: SlackSandboxOptions;
    redisUrl?: string;
    /** configure the relay's own Slack app against the sandbox */
    oauth?: boolean | { rotateTokens: true; tokenTtlSeconds: number };
  } = {},
): Promise<TestRelay> {
  const dir = mkdtempSync(join(tmpdir(), 'relay-test-'));
  const oauthApp = { clientId: '1111.2222', clientSecret: `secret-${randomBytes(8).toString('hex')}` };
  const rotation = typeof options.oauth === 'object' ? options.oauth : {};
  const sandbox = createSlackSandbox({ ...(options.oauth ? { oauth: { ...oauthApp, ...rotation } } : {}), ...options.sandbox });
  await sandbox.listen(0);
  const apiKey = `test_${randomBytes(12).toString('hex')}`;
  const intakeKey = `intake_${randomBytes(12).toString('hex')}`;
  const port = await freePort();
  // a second Slack stand-in a test may start (`listen(spareApiPort)`): an allowed origin too (§6.2)
  const spareApiPort = await freePort();
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    SLACK_AUTHORIZE_URL: `${sandbox.url}/oauth/v2/authorize`,
    ...(options.oauth
      ? { SLACK_CLIENT_ID: oauthApp.clientId, SLACK_CLIENT_SECRET: oauthApp.clientSecret, SLACK_STATE_SECRET: 'state-secret' }
      : {}),
    ...(await databaseEnv(dir)),
    REDIS_URL: options.redisUrl ?? inject('redisUrl'),
    QUEUE_PREFIX: `t${randomBytes(6).toString('hex')}`,
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    API_KEYS: `${intakeKey},second_${randomBytes(8).toString('hex')}`,
    ADMIN_API_KEYS: apiKey,
    ADMIN_PASSWORD: randomBytes(12).toString('hex'),
    SLACK_API_URL: sandbox.apiUrl,
    ALLOWED_API_URLS: `http://127.0.0.1:${spareApiPort}`,
    RETRY_BASE_MS: '50',
    DELIVERY_ATTEMPTS: '4',
    SLACK_TIMEOUT_MS: '2000',
    LOG_LEVEL: 'debug',
    ...options.env,
  };
  const config = loadConfig(env);
  const logFile = join(dir, 'relay.log');
  const logger = createLogger({ level: 'debug', destination: pino.destination({ dest: logFile, sync: true }) });
  const web = await startWeb(config, logger);
  const workers: WorkerProcess[] = [];
  const children: ChildProcess[] = [];
  const spawnWorker = async () => {
    const worker = await startWorker(config, logger);
    workers.push(worker);
    return worker;
  };
  const worker = options.worker === false ? null : await spawnWorker();

  const api = apiClient(() => web.url, apiKey);

  return {
    dir,
    config,
    sandbox,
    web,
    worker,
    apiKey,
    intakeKey,
    spareApiPort,
    logFile,
    api,
    stores: web.services.stores,
    env,
    async expireOAuthStates() {
      await dbQuery(env, 'update oauth_states set expires_at = $1', [Date.now() - 1]);
    },
    startWorker: spawnWorker,
    async spawnWorkerProcess() {
      const child = spawn(process.execPath, ['dist/workers/worker.js'], {
        env: { PATH: process.env.PATH, ...env, LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker did not start:\n${output}`)), 15_000);
        const onData = (chunk: Buffer) => {
          output += chunk;
          if (output.includes('worker process consuming')) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', onData);
        child.once('exit', (code) => reject(new Error(`worker exited (${code}):\n${output}`)));
      });
      return child;
    },
    createSubscription: (overrides = {}) => createSubscription(api, { apiUrl: sandbox.apiUrl, apiToken: BOT_TOKEN }, overrides),
    waitForAlert: (id, statuses, timeoutMs) => waitForAlert(api, id, statuses, timeoutMs),
    async close() {
      await Promise.all(
        children.map((child) => new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        })),
      );
      await Promise.all(workers.map((w) => w.close().catch(() => {})));
      await web.close().catch(() => {});
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
