// Runs the Slack sandbox standalone:
//   node dist/src/sandbox/main.js [--port N]     (or: npx tsx src/sandbox/main.ts)
// Port: --port, else SANDBOX_PORT, else 3100. OAuth client: SLACK_CLIENT_ID and
// SLACK_CLIENT_SECRET when both are set. The only file of the sandbox that reads process.env.
import { createSlackSandbox, type SlackSandboxOptions } from './index.js';

const DEFAULT_PORT = 3100;
const HOST = '127.0.0.1';

function fail(message: string): never {
  console.error(`slack sandbox: ${message}`);
  process.exit(1);
}

function readPort(argv: string[], env: NodeJS.ProcessEnv): number {
  const index = argv.findIndex((arg) => arg === '--port' || arg.startsWith('--port='));
  const arg = argv[index];
  const raw = arg === undefined ? env.SANDBOX_PORT : arg.includes('=') ? arg.slice('--port='.length) : argv[index + 1];
  if (raw === undefined || raw === '') return DEFAULT_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid port "${raw}"`);
  return port;
}

function readOAuth(env: NodeJS.ProcessEnv): SlackSandboxOptions['oauth'] {
  const clientId = env.SLACK_CLIENT_ID;
  const clientSecret = env.SLACK_CLIENT_SECRET;
  return clientId && clientSecret ? { clientId, clientSecret } : undefined;
}

async function main(): Promise<void> {
  // The sandbox accepts any xoxb-/xoxp- token: never let it stand in for Slack in production.
  if (process.env.NODE_ENV === 'production') {
    fail('refusing to start with NODE_ENV=production; the sandbox is a test double that accepts any token');
  }
  const oauth = readOAuth(process.env);
  const sandbox = createSlackSandbox({ oauth, log: (line) => console.log(`[sandbox] ${line}`) });
  const { url, apiUrl } = await sandbox.listen(readPort(process.argv.slice(2), process.env), HOST);
  console.log(`Slack sandbox: ${url}`);
  console.log(`Slack API URL: ${apiUrl}`);
  console.log(
    oauth
      ? `OAuth: client ${oauth.clientId}; install page at ${url}/oauth/v2/authorize`
      : 'OAuth: any client id/secret accepted (set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to pin one)',
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    console.log(`Slack sandbox: ${signal} received, closing`);
    sandbox.close().then(
      () => process.exit(0),
      (error: unknown) => fail(`error while closing: ${String(error)}`),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
