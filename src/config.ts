import { z } from 'zod';
import { readDevCredentials, type DevCredentials } from './dev-credentials.js';
import { definedOnly } from './lib/defined-only.js';

/**
 * The whole environment of SPEC §5, parsed once at process start. No other module reads
 * `process.env`: entry points call `loadConfig()` and pass the result down.
 */

const int = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);
const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();
const url = (fallback: string) => z.url({ protocol: /^https?$/ }).default(fallback);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: int(3000, 0),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  REDIS_URL: optionalText,
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,50}$/, 'letters, digits, _ and - only')
    .default('relay'),
  DATABASE_PATH: z.string().min(1).default('./data/relay.db'),
  ENCRYPTION_KEY: optionalText,
  API_KEYS: optionalText,
  ADMIN_PASSWORD: optionalText,
  SLACK_CLIENT_ID: optionalText,
  SLACK_CLIENT_SECRET: optionalText,
  SLACK_STATE_SECRET: optionalText,
  SLACK_API_URL: url('https://slack.com/api/'),
  SLACK_AUTHORIZE_URL: url('https://slack.com/oauth/v2/authorize'),
  THROTTLE_INITIAL_LIMIT: int(5),
  THROTTLE_ONGOING_LIMIT: int(500),
  THROTTLE_INITIAL_CONCURRENCY: int(5),
  THROTTLE_ONGOING_CONCURRENCY: int(500),
  THROTTLE_WINDOW_SECONDS: int(60),
  WORKER_CONCURRENCY: int(50),
  DELIVERY_ATTEMPTS: int(8),
  RETRY_BASE_MS: int(1000),
  WORKER_LOCK_MS: int(30_000, 100),
  STALLED_INTERVAL_MS: int(30_000, 100),
  SLACK_TIMEOUT_MS: int(10_000, 100),
  SWEEP_INTERVAL_MS: int(30_000, 100),
  SWEEP_MIN_AGE_MS: int(60_000, 0),
  SANDBOX_PORT: int(3100, 0),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface ThrottleLimits {
  limit: number;
  seconds: number;
  concurrency: number;
}

export type TransferKind = 'initial' | 'ongoing';

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  publicUrl: string;
  /** Unset means "the default local Redis" (the launcher may start one). */
  redisUrl: string;
  redisUrlExplicit: boolean;
  queuePrefix: string;
  databasePath: string;
  encryptionKey: Buffer;
  apiKeys: string[];
  adminPassword: string;
  /** Where development credentials were generated, when they were (for the start-up message). */
  credentialsFile: string | null;
  slack: {
    apiUrl: string;
    authorizeUrl: string;
    oauth: { clientId: string; clientSecret: string; stateSecret: string } | null;
    timeoutMs: number;
  };
  throttle: Record<TransferKind, ThrottleLimits>;
  worker: {
    concurrency: number;
    attempts: number;
    retryBaseMs: number;
    lockMs: number;
    stalledIntervalMs: number;
    /** the lost-job sweep: how often, and how old a waiting record must be to be checked */
    sweepIntervalMs: number;
    sweepMinAgeMs: number;
  };
  logLevel: string;
  /** where `npm start` runs the Slack sandbox in development */
  sandboxPort: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const REQUIRED_SECRETS = ['ENCRYPTION_KEY', 'API_KEYS', 'ADMIN_PASSWORD'] as const;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid environment:\n${lines.join('\n')}`);
  }
  const e = parsed.data;

  let secrets: DevCredentials = {
    ENCRYPTION_KEY: e.ENCRYPTION_KEY,
    API_KEYS: e.API_KEYS,
    ADMIN_PASSWORD: e.ADMIN_PASSWORD,
  } as DevCredentials;
  let credentialsFile: string | null = null;
  const missing = REQUIRED_SECRETS.filter((name) => !e[name]);
  if (missing.length > 0) {
    if (e.NODE_ENV === 'production') {
      throw new ConfigError(
        `NODE_ENV=production needs ${missing.join(', ')}. ` +
          'Set them in the environment (see README, "Configuration").',
      );
    }
    // Development: generated once next to the database, shared by every local process.
    const generated = readDevCredentials(e.DATABASE_PATH);
    credentialsFile = generated.file;
    secrets = { ...generated.values, ...definedOnly(secrets) };
  }

  const encryptionKey = Buffer.from(secrets.ENCRYPTION_KEY, 'base64');
  if (encryptionKey.length !== 32) {
    throw new ConfigError('ENCRYPTION_KEY must be 32 bytes, base64-encoded (openssl rand -base64 32).');
  }
  const apiKeys = secrets.API_KEYS.split(',')
    .map((key) => key.trim())
    .filter(Boolean);
  if (apiKeys.length === 0) throw new ConfigError('API_KEYS must name at least one key.');

  const oauthParts = [e.SLACK_CLIENT_ID, e.SLACK_CLIENT_SECRET, e.SLACK_STATE_SECRET];
  const oauth =
    e.SLACK_CLIENT_ID && e.SLACK_CLIENT_SECRET && e.SLACK_STATE_SECRET
      ? { clientId: e.SLACK_CLIENT_ID, clientSecret: e.SLACK_CLIENT_SECRET, stateSecret: e.SLACK_STATE_SECRET }
      : null;
  if (!oauth && oauthParts.some(Boolean)) {
    throw new ConfigError('OAuth needs all of SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET.');
  }

  return {
    env: e.NODE_ENV,
    port: e.PORT,
    // Unset, it follows PORT: http://localhost:3000 with the defaults (SPEC §5).
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    redisUrl: e.REDIS_URL ?? 'redis://127.0.0.1:6379',
    redisUrlExplicit: e.REDIS_URL !== undefined,
    queuePrefix: e.QUEUE_PREFIX,
    databasePath: e.DATABASE_PATH,
    encryptionKey,
    apiKeys,
    adminPassword: secrets.ADMIN_PASSWORD,
    credentialsFile,
    slack: {
      apiUrl: withTrailingSlash(e.SLACK_API_URL),
      authorizeUrl: e.SLACK_AUTHORIZE_URL,
      oauth,
      timeoutMs: e.SLACK_TIMEOUT_MS,
    },
    throttle: {
      initial: {
        limit: e.THROTTLE_INITIAL_LIMIT,
        seconds: e.THROTTLE_WINDOW_SECONDS,
        concurrency: e.THROTTLE_INITIAL_CONCURRENCY,
      },
      ongoing: {
        limit: e.THROTTLE_ONGOING_LIMIT,
        seconds: e.THROTTLE_WINDOW_SECONDS,
        concurrency: e.THROTTLE_ONGOING_CONCURRENCY,
      },
    },
    worker: {
      concurrency: e.WORKER_CONCURRENCY,
      attempts: e.DELIVERY_ATTEMPTS,
      retryBaseMs: e.RETRY_BASE_MS,
      lockMs: e.WORKER_LOCK_MS,
      stalledIntervalMs: e.STALLED_INTERVAL_MS,
      sweepIntervalMs: e.SWEEP_INTERVAL_MS,
      sweepMinAgeMs: e.SWEEP_MIN_AGE_MS,
    },
    logLevel: e.LOG_LEVEL,
    sandboxPort: e.SANDBOX_PORT,
  };
}

export function withTrailingSlash(value: string): string {
  return value.endsWith('/') ? value : `${value}/`;
}
