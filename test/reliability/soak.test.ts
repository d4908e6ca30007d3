/**
 * The crash soak of `npm run soak`, small enough for every test run: 300 results, 5 random
 * SIGKILLs, faults on; and a smaller one in follow mode. Any difference from the quiet run
 * fails it; the report is printed.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SOAK_OPTIONS, runSoak } from '../../soak/run-soak.js';
import type { SoakOptions } from '../../soak/run-soak.js';
import { formatReport } from '../../soak/report.js';
import { skipSlow } from '../support/slow.js';
import { createTestTables, testStack } from '../support/stack.js';

const total = (counts: Readonly<Record<string, number>>): number =>
  Object.values(counts).reduce((sum, count) => sum + count, 0);

/** Runs a short soak on the test stack, prints its report, and checks what every soak must hold. */
const shortSoak = async (options: Partial<SoakOptions> & { kills: number }) => {
  const report = await runSoak(
    { ...testStack(), createTables: createTestTables },
    { ...DEFAULT_SOAK_OPTIONS, timeBudgetMarginMs: 2_000, ...options },
  );
  console.log(formatReport(report));
  expect(report.crash.drained).toBe(true);
  expect(total(report.crash.kills)).toBe(options.kills);
  expect(report.mismatches).toEqual([]);
  return report;
};

describe.skipIf(skipSlow)('crash soak (short)', () => {
  it('ends in the same state as a quiet run of the same backlog', async () => {
    const report = await shortSoak({
      results: 300,
      kills: 5,
      seed: 7,
      invokeTimeoutMs: 4_000,
      // Generous: children cut at their deadline keep their lease until it (plus the
      // clock-skew allowance), and the machine is shared.
      maxWallMs: 180_000,
    });
    expect(total(report.crash.faults)).toBeGreaterThan(0);
  }, 240_000);

  it('in follow mode, with the kills during hand-overs and right after asks, ends in the same state too', async () => {
    // Each random kill hit the holder while the next invocation was asking to take over.
    const report = await shortSoak({
      results: 150,
      kills: 3,
      seed: 11,
      invokeTimeoutMs: 8_000,
      followPollIntervalMs: 100,
      askKills: 2,
      maxWallMs: 120_000,
    });
    // One holder killed right after it was asked, one asker right after it asked.
    expect(report.crash.askKills).toEqual({ holder: 1, asker: 1 });
    // After the kills, an invocation took over and ended on its own.
    const ended = Object.entries(report.crash.endings).filter(([ending]) => !ending.startsWith('killed'));
    expect(ended.reduce((sum, [, count]) => sum + count, 0)).toBeGreaterThan(0);
  }, 180_000);
});
