import { readFileSync } from 'node:fs';

/** The Procfile is the single source of truth for what runs; `npm start` reads it too. */
export type Procfile = Map<string, string>;

export function parseProcfile(text: string): Procfile {
  const entries: Procfile = new Map();
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z0-9_-]+):\s*(.+)$/.exec(line);
    if (!match) throw new Error(`Procfile line ${index + 1} is not "name: command": ${line}`);
    entries.set(match[1]!, match[2]!);
  }
  return entries;
}

export const readProcfile = (path: string) => parseProcfile(readFileSync(path, 'utf8'));
