import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config.js';

/**
 * Runs `main` when the calling module is the process entry point, and stops gracefully on SIGTERM
 * or SIGINT: `main` returns its own stop function. The handlers are installed before `main`
 * starts, so a signal during start-up still stops gracefully (once start-up is done). A second
 * signal exits at once.
 */
export function runMain(moduleUrl: string, main: () => Promise<() => Promise<void>>): void {
  const entry = process.argv[1];
  if (!entry || realpathSync(entry) !== realpathSync(fileURLToPath(moduleUrl))) return;

  let started: Promise<() => Promise<void>> | null = null;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stderr.write(`${signal} received, shutting down gracefully\n`);
    (started ?? Promise.resolve(async () => {}))
      .then((stop) => stop())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`shutdown failed: ${(error as Error).message}\n`);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  started = main();
  started.catch((error: unknown) => {
    const message = error instanceof ConfigError ? error.message : ((error as Error).stack ?? String(error));
    process.stderr.write(`Slack Alert Relay could not start: ${message}\n`);
    process.exit(1);
  });
}
