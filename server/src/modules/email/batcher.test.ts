import { describe, expect, it } from 'vitest';
import { createBatcher } from './batcher.ts';

describe('batcher', () => {
  it('runs the calls of one turn together and answers each caller by position', async () => {
    const runs: number[][] = [];
    const double = createBatcher(async (items: number[]) => {
      runs.push(items);
      return items.map((n) => n * 2);
    }, 3);
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => double(n)));
    expect(results).toEqual([2, 4, 6, 8, 10]);
    expect(runs).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    expect(await double(6)).toBe(12);
  });

  it('rejects every caller of a failed batch, and the next batch starts fresh', async () => {
    let fail = true;
    const echo = createBatcher(async (items: string[]) => {
      if (fail) throw new Error('down');
      return items;
    });
    const failed = await Promise.allSettled([echo('a'), echo('b')]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await echo('c')).toBe('c');
  });
});
