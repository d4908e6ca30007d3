/** The figures of a drain's second half, from the samples taken at each offset commit. */
import { describe, expect, it } from 'vitest';
import { secondHalfOf } from '../../bench/figures.js';

const sample = (atMs: number, entriesDone: number, childCpuMs: number) => ({ atMs, entriesDone, childCpuMs });

describe('secondHalfOf', () => {
  it('measures from the first commit at or past the middle to the last one', () => {
    const samples = [
      sample(1_000, 100, 900),
      sample(2_000, 500, 1_500),
      sample(3_000, 600, 1_700),
      sample(5_000, 1_000, 2_500),
    ];
    // From entry 500 at 2 s (1,500 ms of CPU) to entry 1,000 at 5 s (2,500 ms): 500 entries in 3 s, 1,000 ms.
    expect(secondHalfOf(samples, 1_000)).toEqual({ fromEntry: 500, entriesPerSecond: 166.7, consumerCpuMsPerEntry: 2 });
  });

  it('gives nothing when too few entries lie between the commits to split on', () => {
    expect(secondHalfOf([sample(1_000, 400, 100), sample(2_000, 1_000, 900)], 1_000)).toBeUndefined();
    expect(secondHalfOf([], 1_000)).toBeUndefined();
  });

  it('gives nothing when the CPU could not be read', () => {
    expect(secondHalfOf([sample(1_000, 500, Number.NaN), sample(2_000, 1_000, Number.NaN)], 1_000)).toBeUndefined();
  });
});
