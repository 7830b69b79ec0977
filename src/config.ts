import { z } from 'zod';
import { readDevCredentials } from './dev-credentials.js';
import { definedOnly } from './lib/defined-only.js';

/**
 * The whole environment of docs/contract.md §5, parsed once at process start. No other module reads
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
  REDIS_CLUSTER_NODES: optionalText,
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,50}$/, 'letters, digits, _ and - only')
    .default('relay'),
  DATABASE_PATH: z.string().min(1).default('./data/relay.db'),
  DATABASE_URL: z
    .string()
    .trim()
    .transform((value) => (value === '' ? undefined : value))
    .optional()
    .refine((value) => value === undefined || /^postgres(ql)?:\/\//.test(value), 'must be a postgres:// URL'),
  ENCRYPTION_KEY: optionalText,
  API_KEYS: optionalText,
  ADMIN_API_KEYS: optionalText,
  ADMIN_PASSWORD: optionalText,
  ALLOWED_API_URLS: optionalText,
  INTAKE_RATE_LIMIT: int(6000),
  DEDUP_WINDOW_SECONDS: int(300),
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
  /** REDIS_CLUSTER_NODES: a Redis Cluster's nodes, instead of REDIS_URL (docs/contract.md §6.3) */
  redisClusterNodes: { host: string; port: number }[] | null;
  queuePrefix: string;
  /** the SQLite file, when there is no databaseUrl */
  databasePath: string;
  /** DATABASE_URL: PostgreSQL instead of SQLite */
  databaseUrl: string | null;
  encryptionKey: Buffer;
  /** Bearer keys for /api: intake keys (one per upstream system) and admin keys (docs/contract.md §6.1). */
  apiKeys: { intake: string[]; admin: string[] };
  adminPassword: string;
  /** Alerts one intake key may submit per minute (a batch counts its items). */
  intakeRateLimit: number;
  /** the same notification (an HA pair's second copy) within this long is a duplicate (§6.4) */
  dedupWindowMs: number;
  /** Where development credentials were generated, when they were (for the start-up message). */
  credentialsFile: string | null;
  slack: {
    apiUrl: string;
    authorizeUrl: string;
    oauth: { clientId: string; clientSecret: string; stateSecret: string } | null;
    timeoutMs: number;
  };
  /** The origins a subscription's apiUrl may have: SLACK_API_URL's and ALLOWED_API_URLS. */
  egress: { allowedOrigins: string[]; listedOrigins: string[] };
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
/** Production refuses shorter secrets: a guessable key or password is no key at all. */
const MIN_KEY_LENGTH = 24;
const MIN_PASSWORD_LENGTH = 12;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid environment:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';

  let secrets = {
    ENCRYPTION_KEY: e.ENCRYPTION_KEY,
    API_KEYS: e.API_KEYS,
    ADMIN_API_KEYS: e.ADMIN_API_KEYS,
    ADMIN_PASSWORD: e.ADMIN_PASSWORD,
  };
  let credentialsFile: string | null = null;
  const missing = REQUIRED_SECRETS.filter((name) => !e[name]);
  if (production && missing.length > 0) {
    throw new ConfigError(
      `NODE_ENV=production needs ${missing.join(', ')}. ` + 'Set them in the environment (see README, "Configuration").',
    );
  }
  if (missing.length > 0) {
    // Development: generated once next to the database, shared by every local process.
    const generated = readDevCredentials(e.DATABASE_PATH);
    credentialsFile = generated.file;
    secrets = { ...generated.values, ...definedOnly(secrets) };
  }

  const encryptionKey = Buffer.from(secrets.ENCRYPTION_KEY!, 'base64');
  if (encryptionKey.length !== 32) {
    throw new ConfigError('ENCRYPTION_KEY must be 32 bytes, base64-encoded (openssl rand -base64 32).');
  }
  const apiKeys = { intake: keyList('API_KEYS', secrets.API_KEYS), admin: keyList('ADMIN_API_KEYS', secrets.ADMIN_API_KEYS) };
  if (apiKeys.intake.length === 0) throw new ConfigError('API_KEYS must name at least one intake key.');
  if (apiKeys.intake.some((key) => apiKeys.admin.includes(key))) {
    throw new ConfigError('A key is listed in both API_KEYS and ADMIN_API_KEYS; give each key one role.');
  }
  const adminPassword = secrets.ADMIN_PASSWORD!;
  if (production) {
    const short = [...apiKeys.intake, ...apiKeys.admin].filter((key) => key.length < MIN_KEY_LENGTH);
    if (short.length > 0) {
      throw new ConfigError(`API_KEYS and ADMIN_API_KEYS need keys of at least ${MIN_KEY_LENGTH} characters (openssl rand -hex 24).`);
    }
    if (adminPassword.length < MIN_PASSWORD_LENGTH) {
      throw new ConfigError(`ADMIN_PASSWORD needs at least ${MIN_PASSWORD_LENGTH} characters.`);
    }
  }

  const oauthParts = [e.SLACK_CLIENT_ID, e.SLACK_CLIENT_SECRET, e.SLACK_STATE_SECRET];
  const oauth =
    e.SLACK_CLIENT_ID && e.SLACK_CLIENT_SECRET && e.SLACK_STATE_SECRET
      ? { clientId: e.SLACK_CLIENT_ID, clientSecret: e.SLACK_CLIENT_SECRET, stateSecret: e.SLACK_STATE_SECRET }
      : null;
  if (!oauth && oauthParts.some(Boolean)) {
    throw new ConfigError('OAuth needs all of SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET.');
  }

  const slackApiUrl = withTrailingSlash(e.SLACK_API_URL);
  const listedOrigins = (e.ALLOWED_API_URLS ?? '').split(',').map((entry) => entry.trim()).filter(Boolean).map(originOf);
  const slackOrigin = new URL(slackApiUrl).origin;
  if (production && slackOrigin.startsWith('http:') && !listedOrigins.includes(slackOrigin)) {
    throw new ConfigError('SLACK_API_URL must be https: in production (or list its origin in ALLOWED_API_URLS).');
  }

  return {
    env: e.NODE_ENV,
    port: e.PORT,
    // Unset, it follows PORT: http://localhost:3000 with the defaults (docs/contract.md §5).
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    redisUrl: e.REDIS_URL ?? 'redis://127.0.0.1:6379',
    redisUrlExplicit: e.REDIS_URL !== undefined || e.REDIS_CLUSTER_NODES !== undefined,
    redisClusterNodes: e.REDIS_CLUSTER_NODES ? clusterNodes(e.REDIS_CLUSTER_NODES) : null,
    // On a Cluster every key must hash to one slot for BullMQ's scripts (and the relay's own):
    // the prefix becomes a hash tag. Elsewhere it stays as it was, so upgrades keep their queues.
    queuePrefix: e.REDIS_CLUSTER_NODES ? `{${e.QUEUE_PREFIX}}` : e.QUEUE_PREFIX,
    databasePath: e.DATABASE_PATH,
    databaseUrl: e.DATABASE_URL ?? null,
    encryptionKey,
    apiKeys,
    adminPassword,
    intakeRateLimit: e.INTAKE_RATE_LIMIT,
    dedupWindowMs: e.DEDUP_WINDOW_SECONDS * 1000,
    credentialsFile,
    slack: {
      apiUrl: slackApiUrl,
      authorizeUrl: e.SLACK_AUTHORIZE_URL,
      oauth,
      timeoutMs: e.SLACK_TIMEOUT_MS,
    },
    egress: { allowedOrigins: [...new Set([slackOrigin, ...listedOrigins])], listedOrigins },
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

/** Every secret value of the configuration: the logger masks them wherever they appear. */
export function secretValues(config: Config): string[] {
  const oauth = config.slack.oauth;
  return [
    ...config.apiKeys.intake,
    ...config.apiKeys.admin,
    config.adminPassword,
    config.encryptionKey.toString('base64'),
    ...(oauth ? [oauth.clientSecret, oauth.stateSecret] : []),
  ];
}

/** `host:port,host:port`: the nodes a Cluster client starts from (it finds the others). */
function clusterNodes(value: string): { host: string; port: number }[] {
  return value.split(',').map((entry) => entry.trim()).filter(Boolean).map((entry) => {
    const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(entry);
    if (!match) throw new ConfigError(`REDIS_CLUSTER_NODES: "${entry}" is not host:port.`);
    return { host: match[1]!, port: Number(match[2]) };
  });
}

/** Comma-separated keys: printable, no spaces (they travel in an Authorization header). */
function keyList(name: string, value: string | undefined): string[] {
  const keys = (value ?? '').split(',').map((key) => key.trim()).filter(Boolean);
  if (keys.some((key) => !/^[\x21-\x7e]+$/.test(key))) {
    throw new ConfigError(`${name}: keys may hold printable ASCII characters only, no spaces.`);
  }
  return keys;
}

/** An ALLOWED_API_URLS entry: exactly an origin (scheme, host, port), nothing else. */
function originOf(entry: string): string {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw new ConfigError(`ALLOWED_API_URLS: "${entry}" is not a URL.`);
  }
  if (!/^https?:$/.test(url.protocol) || url.username || url.password || url.search || url.hash || url.pathname !== '/') {
    throw new ConfigError(`ALLOWED_API_URLS: "${entry}" must be an origin such as https://slack.example.com (no path, user or query).`);
  }
  return url.origin;
}

export function withTrailingSlash(value: string): string {
  return value.endsWith('/') ? value : `${value}/`;
}
