import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Development credentials (docs/contract.md §5): generated once into `credentials.env` beside the
 * database (`./data/credentials.env` by default), mode 0600 in a 0700 folder, `KEY=value` lines,
 * so that every local process, and the README's curl examples (`source data/credentials.env`),
 * share them.
 */

export interface DevCredentials {
  ENCRYPTION_KEY: string;
  /** intake keys */
  API_KEYS: string;
  ADMIN_API_KEYS: string;
  ADMIN_PASSWORD: string;
}

const NAMES = ['ENCRYPTION_KEY', 'API_KEYS', 'ADMIN_API_KEYS', 'ADMIN_PASSWORD'] as const;

function generate(): DevCredentials {
  return {
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    API_KEYS: `dev_${randomBytes(24).toString('base64url')}`,
    ADMIN_API_KEYS: `devadmin_${randomBytes(24).toString('base64url')}`,
    ADMIN_PASSWORD: randomBytes(18).toString('base64url'),
  };
}

export function readDevCredentials(databasePath: string): { file: string; values: DevCredentials } {
  const file = resolve(join(dirname(databasePath), 'credentials.env'));
  const existing = tryRead(file);
  if (existing && NAMES.every((name) => existing[name])) return { file, values: existing as DevCredentials };

  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // A file of the first release lacks ADMIN_API_KEYS: keep what it has, add what is missing.
  const values: DevCredentials = { ...generate(), ...existing };
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, render(values), { mode: 0o600 });
  try {
    if (existing) {
      renameSync(temp, file);
      return { file, values };
    }
    // Web and workers start together: link() fails if another process won the race, and then we
    // read the winner's file instead.
    linkSync(temp, file);
    return { file, values };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = tryRead(file);
    if (!winner || !NAMES.every((name) => winner[name])) {
      throw new Error(`${file} exists but is incomplete; delete it and start again.`, { cause: error });
    }
    return { file, values: winner as DevCredentials };
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // renamed into place
    }
    chmodSync(file, 0o600);
  }
}

function render(values: DevCredentials): string {
  const body = NAMES.map((name) => `${name}=${values[name]}`).join('\n');
  return `# Generated for development by Slack Alert Relay. Keep private.\n${body}\n`;
}

/** What the file holds of the credentials (an older file may hold only some), or null. */
function tryRead(file: string): Partial<DevCredentials> | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const values: Partial<DevCredentials> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    const name = match?.[1] as (typeof NAMES)[number] | undefined;
    if (name && NAMES.includes(name) && match![2]) values[name] = match![2];
  }
  const { ENCRYPTION_KEY, API_KEYS, ADMIN_PASSWORD } = values;
  if (!ENCRYPTION_KEY || !API_KEYS || !ADMIN_PASSWORD) return null;
  return values;
}
