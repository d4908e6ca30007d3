import { describe, expect, it } from 'vitest';
import { overlapShare } from '../../bench/latency.js';

describe('the latency bench', () => {
  it('counts the share of run time during which two or more invocations ran at once', () => {
    // 0–10 and 9–20 overlap for 1 s of 21 s run in all; a third inside the second adds 2 s.
    expect(
      overlapShare([
        { startS: 0, endS: 10 },
        { startS: 9, endS: 20 },
      ]),
    ).toBe(round4(1 / 21));
    expect(
      overlapShare([
        { startS: 0, endS: 10 },
        { startS: 9, endS: 20 },
        { startS: 12, endS: 14 },
      ]),
    ).toBe(round4(3 / 23));
    expect(
      overlapShare([
        { startS: 0, endS: 10 },
        { startS: 10, endS: 20 },
      ]),
    ).toBe(0);
    expect(overlapShare([])).toBe(0);
  });
});

const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;
