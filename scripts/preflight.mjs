#!/usr/bin/env node
// What `npm test` needs besides Node, found before anything runs (run by `npm test` and .ci/run):
// the servers and the browser the tests start themselves. On Debian or Ubuntu as root, whatever is
// missing is installed with apt-get; anywhere else, the preflight stops and prints the command.
//
//   node scripts/preflight.mjs            check, install what is missing (root on Debian), or explain
//   node scripts/preflight.mjs --check    check only
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const executable = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};
const onPath = (name) => (process.env.PATH ?? '').split(delimiter).some((dir) => dir && executable(join(dir, name)));
const postgresBin = () =>
  existsSync('/usr/lib/postgresql') &&
  readdirSync('/usr/lib/postgresql').some((v) => executable(`/usr/lib/postgresql/${v}/bin/initdb`) && executable(`/usr/lib/postgresql/${v}/bin/pg_ctl`));

/** Each requirement: how to find it, the Debian package, the Homebrew formula, what needs it. */
const REQUIREMENTS = [
  { name: 'redis-server', found: () => onPath('redis-server') && onPath('redis-cli'), apt: 'redis-server', brew: 'redis', for: 'the Redis servers, Sentinel and Cluster the tests start' },
  { name: 'chromium', found: () => executable(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'), apt: 'chromium', brew: '--cask chromium (and set CHROMIUM_PATH)', for: 'the browser tests (Playwright drives it)' },
  { name: 'postgresql', found: () => postgresBin() || (onPath('initdb') && onPath('pg_ctl')), apt: 'postgresql', brew: 'postgresql@15', for: 'the PostgreSQL servers the tests start (initdb, pg_ctl)' },
  { name: 'prometheus-alertmanager', found: () => executable(process.env.ALERTMANAGER_BIN ?? '') || onPath('prometheus-alertmanager') || onPath('alertmanager'), apt: 'prometheus-alertmanager', brew: 'alertmanager', for: 'the end-to-end test with a real Alertmanager' },
];

const say = (line) => process.stdout.write(`preflight | ${line}\n`);
const missing = REQUIREMENTS.filter((requirement) => !requirement.found());
if (missing.length === 0) {
  say(`found ${REQUIREMENTS.map((r) => r.name).join(', ')}`);
  process.exit(0);
}
for (const requirement of missing) say(`missing ${requirement.name}: ${requirement.for}`);

const packages = missing.map((requirement) => requirement.apt);
const canInstall = !process.argv.includes('--check') && process.getuid?.() === 0 && onPath('apt-get');
if (canInstall) {
  say(`installing ${packages.join(' ')} with apt-get (this takes a minute or two)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env }).status === 0;
  if (run(['update', '-qq']) && run(['install', '-y', '-qq', '--no-install-recommends', ...packages])) {
    const still = missing.filter((requirement) => !requirement.found());
    if (still.length === 0) {
      say('installed (the tests start servers of their own on free ports)');
      process.exit(0);
    }
    say(`still missing after apt-get: ${still.map((r) => r.name).join(', ')}`);
  } else {
    say('apt-get failed (see above)');
  }
}
say('install what is missing, then run the tests again:');
say(`  Debian/Ubuntu: sudo apt-get install -y ${packages.join(' ')}`);
say(`  macOS:         brew install ${missing.map((requirement) => requirement.brew).join(' ')}`);
process.exit(1);
