import { dirname, join } from 'node:path';
import { projectRoot } from '../lib/project-root.js';
import { loadConfig } from '../config.js';
import { runMain } from '../lib/run-main.js';
import { readProcfile } from './procfile.js';
import { redisAnswers, startLocalRedis } from './local-redis.js';
import { Supervisor } from './supervisor.js';
import { ensureSandboxSubscription, startDevSandbox } from './dev-sandbox.js';

/**
 * `npm start`: the whole relay on one machine, from the Procfile. Applies migrations (release),
 * starts a local Redis when none is configured or answering, then web and two workers; in
 * development also the Slack sandbox. Ctrl-C stops every process it started, Redis last.
 */

const FORMATION: Record<string, number> = { web: 1, worker: 2 };

runMain(import.meta.url, async () => {
  const config = loadConfig();
  const root = projectRoot();
  const procfile = readProcfile(join(root, 'Procfile'));
  const supervisor = new Supervisor({ cwd: root });
  const infra = new Supervisor({ cwd: root });
  const say = (line: string) => process.stdout.write(`start    | ${line}\n`);

  if (!config.redisUrlExplicit && !(await redisAnswers('127.0.0.1', 6379))) {
    say('nothing answers on 127.0.0.1:6379; starting redis-server (data in ./data/redis)');
    await startLocalRedis(infra, dirname(config.databasePath));
  } else {
    say(`using Redis at ${redact(config.redisUrl)}`);
  }

  const release = procfile.get('release');
  if (release && (await supervisor.run({ name: 'release', command: release })) !== 0) {
    await infra.stopAll();
    throw new Error('the release phase (database migrations) failed');
  }
  // In development the sandbox is an allowed Slack API origin too (docs/contract.md §6.2).
  const env = config.env === 'development' ? { ALLOWED_API_URLS: [...config.egress.listedOrigins, `http://127.0.0.1:${config.sandboxPort}`].join(',') } : {};
  for (const [name, count] of Object.entries(FORMATION)) {
    const command = procfile.get(name);
    if (!command) throw new Error(`the Procfile has no "${name}" entry`);
    for (let i = 1; i <= count; i++) supervisor.start({ name: count > 1 ? `${name}.${i}` : name, command, env });
  }

  const sandboxUrl = config.env === 'development' ? await startDevSandbox(infra, config.sandboxPort) : null;
  if (sandboxUrl) {
    const sandboxSubscription = await ensureSandboxSubscription(config, sandboxUrl);
    if (sandboxSubscription === 'created') say(`created the subscription "Sandbox" → ${sandboxUrl}/api/ (member alice@example.com)`);
  }

  say(`relay:      ${config.publicUrl}/  (pages; user admin) · API ${config.publicUrl}/api/v1 · health /readyz`);
  say(`dashboard:  ${config.publicUrl}/admin/queues`);
  if (sandboxUrl) say(`sandbox:    ${sandboxUrl}/  (the DMs the relay sent)`);
  if (config.credentialsFile) say(`credentials: ${config.credentialsFile}  (API key, admin password: source it for the README's curl)`);
  say('press Ctrl-C to stop everything');

  let stopping = false;
  const stop = async () => {
    stopping = true;
    await supervisor.stopAll();
    await infra.stopAll();
  };
  // One process dying takes the rest down: a half-running relay would only mislead.
  void supervisor.exited.then(async ({ name }) => {
    if (stopping) return;
    say(`${name} stopped; stopping everything`);
    await stop();
    process.exit(1);
  });
  return stop;
});

function redact(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}
