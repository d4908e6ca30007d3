/** The Lambda-size targets the bench reports: which run can judge them, and on which figure. */
import { describe, expect, it } from 'vitest';
import type { ModeFigures } from '../../bench/figures.js';
import { checkTargets } from '../../bench/targets.js';

const figures = (overrides: Partial<ModeFigures>): ModeFigures => ({
  mode: 'batched',
  label: 'batched',
  env: {},
  entries: 2_000,
  drainSeconds: 20,
  entriesPerSecond: 100,
  upstashRequests: 42,
  upstashRequestsPer1000: 21,
  dynamodbRequests: 4_850,
  dynamodbRequestsByOperation: { UpdateItem: 4_850 },
  dynamodbRequestsPer1000: 2_425,
  gameMasterCalls: 1_400,
  latencyMs: { p50: 10_000, p99: 19_800, max: 20_000 },
  invocations: 1,
  stoppedBy: { drained: 1 },
  offsetCommits: 20,
  peakRssMb: 130,
  cpuSeconds: { consumer: 3, benchProcess: 2, dynamodbLocal: 4, redis: 0, machine: 9 },
  consumerCpuMsPerEntry: 1.5,
  summary: { applied: 1_800, ignored: 100, invalid: 100, deadLettered: 0 },
  ...overrides,
});

const targetsOf = (batched: ModeFigures, emulatedNetwork = true) =>
  new Map(
    checkTargets({ batched, bundleBytes: 538_669, moduleLoadMs: 100, emulatedNetwork }).map((check) => [
      check.name.split(' ')[0],
      check,
    ]),
  );

const at256 = { memoryMb: 256, vcpus: 0.145, quota: 'cgroup v1' };

describe('the Lambda-size targets', () => {
  it('judges throughput on a 256 MB run with its quota and a network, on the whole drain', () => {
    const check = targetsOf(
      figures({
        entriesPerSecond: 84,
        lambda: at256,
        secondHalf: { fromEntry: 1_000, entriesPerSecond: 101.5, consumerCpuMsPerEntry: 1.4 },
      }),
    ).get('entries/s');
    expect(check).toMatchObject({ target: '≥ 100', measured: '84 (second half 101.5)', met: false });
  });

  it('does not judge throughput without the quota, at another size or without a network', () => {
    expect(targetsOf(figures({ lambda: { memoryMb: 256, vcpus: 0.145 } })).get('entries/s')?.met).toBeNull();
    expect(targetsOf(figures({ lambda: { ...at256, memoryMb: 512 } })).get('entries/s')?.met).toBeNull();
    expect(targetsOf(figures({ lambda: at256 }), false).get('entries/s')?.met).toBeNull();
  });

  it('judges CPU per entry on a whole-core run only, on the whole drain', () => {
    const wholeCore = targetsOf(
      figures({
        consumerCpuMsPerEntry: 1.09,
        secondHalf: { fromEntry: 5_000, entriesPerSecond: 440, consumerCpuMsPerEntry: 0.97 },
      }),
    ).get('handler');
    expect(wholeCore).toMatchObject({ target: '≤ 1.0 ms', measured: '1.09 ms (second half 0.97 ms)', met: false });
    expect(targetsOf(figures({ consumerCpuMsPerEntry: 0.98 })).get('handler')).toMatchObject({
      measured: '0.98 ms',
      met: true,
    });
    expect(targetsOf(figures({ lambda: at256 })).get('handler')?.met).toBeNull();
  });
});
