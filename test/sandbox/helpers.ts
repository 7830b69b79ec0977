import slackWebApi from '@slack/web-api';
import { afterEach } from 'vitest';
import { createSlackSandbox, type SlackSandbox, type SlackSandboxOptions } from '../../src/sandbox/index.js';

// @slack/web-api is CommonJS: import the default and destructure.
const { WebClient, LogLevel } = slackWebApi;
export type WebClientInstance = InstanceType<typeof WebClient>;

const started: SlackSandbox[] = [];

/** A fresh sandbox on a free port; closed after the test. */
export async function startSandbox(options?: SlackSandboxOptions): Promise<SlackSandbox> {
  const sandbox = createSlackSandbox(options);
  started.push(sandbox);
  await sandbox.listen(0);
  return sandbox;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((sandbox) => sandbox.close()));
});

/** The real WebClient as the relay's tests use it: no retries, 429s rejected, 2 s timeout. An empty token sends none. */
export function webClient(sandbox: SlackSandbox, token = 'xoxb-test-token'): WebClientInstance {
  return new WebClient(token, {
    slackApiUrl: sandbox.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 2000,
    logLevel: LogLevel.ERROR, // the client warns on every failed request, which these tests provoke on purpose
  });
}

/** The fields of @slack/web-api's coded errors that the tests look at. */
export interface SlackClientError extends Error {
  code?: string;
  data?: { ok?: boolean; error?: string };
  retryAfter?: number;
  statusCode?: number;
}

export async function rejectionOf(promise: Promise<unknown>): Promise<SlackClientError> {
  try {
    await promise;
  } catch (error) {
    return error as SlackClientError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** The error code of a failed Web API call (HTTP 200, ok:false). */
export async function platformError(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await rejectionOf(promise);
  if (error.code !== 'slack_webapi_platform_error') throw error;
  return error.data?.error;
}
