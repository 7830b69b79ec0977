import { createSlackSandbox } from '../../src/sandbox/index.js';
import { startSlackFront } from './slack-front.js';

/**
 * The "Slack" of the many-hosts test, in a process of its own (`node --import tsx
 * test/hosts/slack-host.ts`), so that the load generator in the test process never slows the
 * stand-in down (a stalled Slack makes workers time out on posts Slack did carry out, a duplicate
 * the relay documents as unavoidable — it must come from the relay, not from the harness).
 *
 * The sandbox (`createSlackSandbox().listen(0, host)`: the standalone `src/sandbox/main.ts` binds
 * 127.0.0.1 only, which no other host can reach) with a Slack-like latency on chat.postMessage,
 * behind the recording front (./slack-front.ts). Environment: SLACK_HOST_LISTEN (address),
 * SLACK_HOST_LATENCY_MS, SLACK_HOST_MARKER (a regular expression whose group 1 is an alert
 * number). Prints one JSON line `{ sandboxUrl, frontUrl }`; stops on SIGTERM or when stdin closes.
 */

const host = process.env.SLACK_HOST_LISTEN ?? '127.0.0.1';
const latencyMs = Number(process.env.SLACK_HOST_LATENCY_MS ?? 0);
const markerPattern = new RegExp(process.env.SLACK_HOST_MARKER ?? '(?!)');

const sandbox = createSlackSandbox();
await sandbox.listen(0, host);
if (latencyMs > 0) sandbox.inject({ kind: 'delay', ms: latencyMs, method: 'chat.postMessage', times: 10_000_000 });
const front = await startSlackFront({ host, target: sandbox.url, markerPattern });
console.log(JSON.stringify({ sandboxUrl: sandbox.url, frontUrl: front.url }));

const stop = async () => {
  await front.close();
  await sandbox.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.resume();
