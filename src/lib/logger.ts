import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

// Anything shaped like a Slack token or secret is masked on its way out, whatever field it is in:
// redaction by path alone would miss a token inside an error message.
const SLACK_TOKEN = /\b(xox[abeoprs]|xoxe\.xox[bp])-[A-Za-z0-9-]+/g;

export function redactSecrets(text: string): string {
  return text.replace(SLACK_TOKEN, (token) => `${token.slice(0, token.indexOf('-') + 1)}…[redacted]`);
}

export function createLogger(options: { level?: string; name?: string; destination?: DestinationStream } = {}): Logger {
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
      hooks: { streamWrite: redactSecrets },
    },
    options.destination,
  );
}
