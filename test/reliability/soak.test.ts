/**
 * The crash soak of `npm run soak`, small enough for every test run: 300 results, 5 random
 * SIGKILLs, faults on. Any difference from the quiet run fails it; the report is printed.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SOAK_OPTIONS, runSoak } from '../../soak/run-soak.js';
import { formatReport } from '../../soak/report.js';
import { createTestTables, testStack } from '../support/stack.js';

describe('crash soak (short)', () => {
  it('ends in the same state as a quiet run of the same backlog', async () => {
    const report = await runSoak(
      { ...testStack(), createTables: createTestTables },
      {
        ...DEFAULT_SOAK_OPTIONS,
        results: 300,
        kills: 5,
        seed: 7,
        invokeTimeoutMs: 4_000,
        timeBudgetMarginMs: 2_000,
        // Generous: children cut at their deadline keep their lease until it (plus the
        // clock-skew allowance), and the machine is shared.
        maxWallMs: 180_000,
      },
    );
    console.log(formatReport(report));
    expect(report.crash.drained).toBe(true);
    expect(Object.values(report.crash.kills).reduce((sum, count) => sum + count, 0)).toBe(5);
    expect(Object.values(report.crash.faults).reduce((sum, count) => sum + count, 0)).toBeGreaterThan(0);
    expect(report.mismatches).toEqual([]);
  }, 240_000);

  it('in follow mode, with the kills during hand-overs, ends in the same state too', async () => {
    const report = await runSoak(
      { ...testStack(), createTables: createTestTables },
      {
        ...DEFAULT_SOAK_OPTIONS,
        results: 150,
        kills: 3,
        seed: 11,
        invokeTimeoutMs: 8_000,
        timeBudgetMarginMs: 2_000,
        followPollIntervalMs: 100,
        maxWallMs: 120_000,
      },
    );
    console.log(formatReport(report));
    expect(report.crash.drained).toBe(true);
    // Each kill hit the holder while the next invocation was waiting to take over.
    expect(Object.values(report.crash.kills).reduce((sum, count) => sum + count, 0)).toBe(3);
    // After the kills, an invocation took over and ended on its own.
    const ended = Object.entries(report.crash.endings).filter(([ending]) => !ending.startsWith('killed'));
    expect(ended.reduce((sum, [, count]) => sum + count, 0)).toBeGreaterThan(0);
    expect(report.mismatches).toEqual([]);
  }, 180_000);
});
