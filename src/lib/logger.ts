import { pino, type Logger, type DestinationStream } from 'pino';
import { maskSecrets } from './redact.js';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  name?: string;
  destination?: DestinationStream;
  /** values that must never appear in a log line, whatever field or message they are in (keys, passwords) */
  secrets?: string[];
}

/**
 * JSON lines (pino). Secrets are masked on their way out, at every level: the configured secret
 * values literally, and anything shaped like a token, a bearer credential or an OAuth code
 * (redaction by path alone would miss a token inside an error message).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  // as written, and as JSON escapes them inside a log line
  const literals = [...new Set((options.secrets ?? []).filter((secret) => secret.length >= 4).flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1)]))]
    .sort((a, b) => b.length - a.length);
  const redact = (line: string) => {
    let out = line;
    for (const secret of literals) if (out.includes(secret)) out = out.split(secret).join('[redacted]');
    return maskSecrets(out);
  };
  return pino(
    {
      level: options.level ?? 'info',
      name: options.name,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'token', '*.token', 'apiToken', '*.apiToken', 'accessToken', '*.accessToken',
          'refreshToken', '*.refreshToken', 'authorization', '*.authorization',
          'req.headers.authorization', 'headers.authorization', 'clientSecret', '*.clientSecret',
        ],
        censor: '[redacted]',
      },
      hooks: { streamWrite: redact },
    },
    options.destination,
  );
}
