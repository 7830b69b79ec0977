import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Development credentials (SPEC §5): generated once into `credentials.env` beside the database
 * (`./data/credentials.env` by default), mode 0600, `KEY=value` lines, so that every local
 * process, and the README's curl examples (`source data/credentials.env`), share them.
 */

export interface DevCredentials {
  ENCRYPTION_KEY: string;
  API_KEYS: string;
  ADMIN_PASSWORD: string;
}

export function readDevCredentials(databasePath: string): { file: string; values: DevCredentials } {
  const file = resolve(join(dirname(databasePath), 'credentials.env'));
  const existing = tryRead(file);
  if (existing) return { file, values: existing };

  mkdirSync(dirname(file), { recursive: true });
  const values: DevCredentials = {
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    API_KEYS: `dev_${randomBytes(24).toString('base64url')}`,
    ADMIN_PASSWORD: randomBytes(18).toString('base64url'),
  };
  // Web and workers start together: write a private temp file, then link it into place. link()
  // fails if another process won the race, and then we read the winner's file instead.
  const temp = `${file}.${process.pid}.tmp`;
  const body = Object.entries(values)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n');
  writeFileSync(temp, `# Generated for development by Slack Alert Relay. Keep private.\n${body}\n`, {
    mode: 0o600,
  });
  try {
    linkSync(temp, file);
    return { file, values };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = tryRead(file);
    if (!winner) throw new Error(`${file} exists but is incomplete; delete it and start again.`);
    return { file, values: winner };
  } finally {
    unlinkSync(temp);
  }
}

function tryRead(file: string): DevCredentials | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) values[match[1]!] = match[2]!;
  }
  const { ENCRYPTION_KEY, API_KEYS, ADMIN_PASSWORD } = values;
  if (!ENCRYPTION_KEY || !API_KEYS || !ADMIN_PASSWORD) return null;
  return { ENCRYPTION_KEY, API_KEYS, ADMIN_PASSWORD };
}
