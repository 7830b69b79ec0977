import type { AlertRow } from './rows.js';
import type { InsertOutcome } from './stores.js';

/**
 * Which rows of a flush of intake requests to insert, the same for every dialect (run inside the
 * dialect's transaction, which holds the idempotency keys' lock): a row whose key was used within
 * the window, by the same API key with the same payload, is a repeat and answers the earlier
 * record; a key that comes back with another payload refuses its whole request, which then
 * writes nothing. Keys earlier in the same flush count too, though their rows are not written yet.
 *
 * `earlierOf` answers the newest record with that key since the window opened (or undefined). It
 * is synchronous: SQLite's transactions are, and PostgreSQL's store reads the keys beforehand.
 */
export function planInserts(
  groups: AlertRow[][],
  earlierOf: (apiKeyId: string | null, idempotencyKey: string) => AlertRow | undefined,
): { outcomes: InsertOutcome[]; fresh: AlertRow[] } {
  const fresh: AlertRow[] = [];
  const keysInFlush = new Map<string, AlertRow>();
  const outcomes: InsertOutcome[] = [];
  for (const rows of groups) {
    const keysInGroup = new Map<string, AlertRow>();
    const written: { row: AlertRow; repeated: boolean }[] = [];
    let conflict: InsertOutcome | undefined;
    for (const [index, row] of rows.entries()) {
      if (row.idempotencyKey === null) {
        written.push({ row, repeated: false });
        continue;
      }
      const scopedKey = `${row.apiKeyId}\n${row.idempotencyKey}`;
      const earlier = keysInGroup.get(scopedKey) ?? keysInFlush.get(scopedKey) ?? earlierOf(row.apiKeyId, row.idempotencyKey);
      if (!earlier) {
        keysInGroup.set(scopedKey, row);
        written.push({ row, repeated: false });
      } else if (earlier.payloadHash === null || earlier.payloadHash === row.payloadHash) {
        written.push({ row: earlier, repeated: true });
      } else {
        conflict = { conflict: index, earlier };
        break;
      }
    }
    if (conflict) {
      outcomes.push(conflict);
      continue;
    }
    for (const [key, row] of keysInGroup) keysInFlush.set(key, row);
    for (const entry of written) if (!entry.repeated) fresh.push(entry.row);
    outcomes.push({ written });
  }
  return { outcomes, fresh };
}
