import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/lib/group-commit.js';

describe('GroupCommit', () => {
  it('flushes what was submitted in one turn together, and answers each submitter with its own result', async () => {
    const flushes: number[][][] = [];
    const group = new GroupCommit(async (submissions: number[][]) => {
      flushes.push(submissions);
      return submissions.map((items) => items.map((n) => n * 10));
    });
    const [a, b, c] = await Promise.all([group.submit([1]), group.submit([2, 3]), group.submit([4])]);
    expect(flushes).toEqual([[[1], [2, 3], [4]]]);
    expect([a, b, c]).toEqual([[10], [20, 30], [40]]);
    expect(await group.submit([5])).toEqual([50]);
    expect(flushes).toHaveLength(2);
  });

  it('lets one submission be refused while the others of its flush succeed', async () => {
    const group = new GroupCommit(async (submissions: number[][]) =>
      submissions.map((items) => (items.includes(0) ? new Error('refused') : items)),
    );
    const [ok, refused] = await Promise.all([group.submit([1]), group.submit([0, 2])]);
    expect(ok).toEqual([1]);
    expect(refused).toBeInstanceOf(Error);
  });

  it('gives every submitter of a failed flush its error', async () => {
    const group = new GroupCommit<number, number>(async () => {
      throw new Error('redis down');
    });
    const results = await Promise.allSettled([group.submit([1]), group.submit([2])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('flushes a group as soon as it reaches maxItems, never splitting one submission', async () => {
    const flushes: number[][][] = [];
    const group = new GroupCommit(async (submissions: number[][]) => {
      flushes.push(submissions);
      return submissions;
    }, 3);
    const pending = [group.submit([1]), group.submit([2, 3]), group.submit([4, 5, 6, 7]), group.submit([8])];
    // the first two submissions reached 3 items and went at once, before the turn ended
    expect(flushes).toEqual([[[1], [2, 3]], [[4, 5, 6, 7]]]);
    expect(await Promise.all(pending)).toEqual([[1], [2, 3], [4, 5, 6, 7], [8]]);
    expect(flushes).toEqual([[[1], [2, 3]], [[4, 5, 6, 7]], [[8]]]);
  });
});
