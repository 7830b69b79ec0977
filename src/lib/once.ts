/**
 * A value made on first use, then kept: the stores' prepared statements, Bull Board's router.
 * Preparing is lazy because a worker may be constructed before the release phase has created the
 * tables; preparing once matters because building and preparing SQL on every call was most of a
 * delivery's CPU time.
 */
export function once<T>(make: () => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}
