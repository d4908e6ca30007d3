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
});
