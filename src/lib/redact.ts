/**
 * Masking of secret-shaped text, wherever text leaves the process (log lines, records, pages):
 * Slack tokens (`xoxb-…`), bearer credentials, OAuth codes and client secrets in query strings or
 * bodies, and long opaque strings that look like keys.
 */

const SLACK_TOKEN = /\b(xox[abeoprs]|xoxe\.xox[bp]|xoxe)-[A-Za-z0-9-]+/g;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
const SECRET_FIELD = /\b(client_secret|refresh_token|access_token|password|token)(["']?\s*[=:]\s*["']?)[^\s"'&,;}]+/gi;
// OAuth's one-time code and state travel in query strings (the callback URL)
const QUERY_SECRET = /([?&](?:code|state)=)[^&\s"'#]+/gi;
const OPAQUE = /\b[A-Za-z0-9_-]{40,}\b/g;

export function maskSecrets(text: string): string {
  return text
    .replace(SLACK_TOKEN, (token) => `${token.slice(0, token.indexOf('-') + 1)}…[redacted]`)
    .replace(BEARER, (_match, scheme: string) => `${scheme} [redacted]`)
    .replace(SECRET_FIELD, (_match, name: string, separator: string) => `${name}${separator}[redacted]`)
    .replace(QUERY_SECRET, '$1[redacted]')
    .replace(OPAQUE, '[redacted]');
}

/** Text a remote server (or any untrusted party) wrote, made safe to keep: no control characters, masked, cut. */
export function untrustedText(value: unknown, maxLength = 300): string {
  const text = typeof value === 'string' ? value : String(value ?? '');
  const clean = maskSecrets(text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g, ' ')).trim();
  return clean.length > maxLength ? `${clean.slice(0, maxLength - 1)}…` : clean;
}
