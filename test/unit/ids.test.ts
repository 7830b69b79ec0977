import { describe, expect, it } from 'vitest';
import { ulid } from '../../src/lib/ids.js';

describe('ulid', () => {
  it('is monotonic within a millisecond: a batch made at once sorts in the order it was made', () => {
    const now = Date.now() + 1000;
    const ids = Array.from({ length: 1000 }, () => ulid(now));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(1000);
    expect(ids.every((id) => id.slice(0, 10) === ids[0]!.slice(0, 10))).toBe(true);
  });

  it('sorts by time, and an earlier time given gets an id of that time', () => {
    const later = ulid(Date.now() + 5000);
    const earlier = ulid(Date.now() - 60_000);
    expect(earlier < later).toBe(true);
    expect(earlier.slice(0, 10) < later.slice(0, 10)).toBe(true);
  });
});
