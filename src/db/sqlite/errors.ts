import { DatabaseUnavailableError, NameTakenError } from '../stores.js';

/** SQLite's error codes stop here: a locked database is "unavailable" (503), a taken name is NameTakenError. */
export function translateSqliteError(error: unknown): unknown {
  const code = (error as { code?: unknown })?.code;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_BUSY_SNAPSHOT') {
    return new DatabaseUnavailableError('The database is busy; try again shortly.');
  }
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' && /name_key/.test((error as Error).message)) {
    return new NameTakenError('A subscription with this name already exists.');
  }
  return error;
}

export function guarded<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw translateSqliteError(error);
  }
}

export async function guardedAsync<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw translateSqliteError(error);
  }
}
