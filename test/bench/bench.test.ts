/**
 * The benchmark's logic on a tiny backlog: both modes drain it through the real handler,
 * end in the same and the expected final state, and every figure lands in results.json.
 * No timing is asserted: the machine is shared and its speed is not the code's.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBench } from '../../bench/bench.js';
import type { BenchRun } from '../../bench/bench.js';
import { CHART_FILE, RESULTS_FILE, writeOutputs } from '../../bench/outputs.js';
import { silentProgress } from '../../bench/progress.js';
import type { BenchStack } from '../../bench/stack.js';
import type { GameMasterStub } from '../../local/game-master-stub.js';
import { startUpstashServer } from '../../local/upstash-server.js';
import type { UpstashServer } from '../../local/upstash-server.js';
import { startTestGameMaster, testStack } from '../support/stack.js';

const ENTRIES = 200;

/** Every figure results.json must carry, as a path into it. */
const NUMERIC_FIELDS = [
  'backlog.entries',
  'backlog.games',
  'bundle.bytes',
  'bundle.sourceMapBytes',
  'moduleLoad.medianMs',
  'moduleLoad.medianProcessMs',
  'ratios.entriesPerSecond',
  'ratios.upstashRequestsPer1000',
  'ratios.dynamodbRequestsPer1000',
  'ratios.latencyP50',
  'ratios.latencyP99',
  'ratios.invocations',
  'ratios.peakRss',
  ...['seed', 'batched'].flatMap((mode) =>
    [
      'entries',
      'drainSeconds',
      'entriesPerSecond',
      'upstashRequests',
      'upstashRequestsPer1000',
      'dynamodbRequests',
      'dynamodbRequestsPer1000',
      'gameMasterCalls',
      'latencyMs.p50',
      'latencyMs.p99',
      'latencyMs.max',
      'invocations',
      'offsetCommits',
      'peakRssMb',
      'cpuSeconds.consumer',
      'cpuSeconds.benchProcess',
      'consumerCpuMsPerEntry',
      'secondHalf.entriesPerSecond',
      'secondHalf.consumerCpuMsPerEntry',
      'summary.applied',
      'summary.ignored',
      'summary.invalid',
    ].map((field) => `modes.${mode}.${field}`),
  ),
];

const at = (value: unknown, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>(
      (node, key) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined),
      value,
    );

describe('benchmark: both modes on a tiny backlog', () => {
  let upstash: UpstashServer;
  let gameMaster: GameMasterStub;
  let outDir = '';
  let run: BenchRun;
  let written: Record<string, unknown>;

  beforeAll(async () => {
    const shared = testStack();
    const token = randomUUID();
    // An Upstash server of this file's own: its request counter sees only this benchmark.
    upstash = await startUpstashServer({
      redisHost: shared.redisHost,
      redisPort: shared.redisPort,
      redisPassword: shared.redisPassword,
      token,
    });
    gameMaster = await startTestGameMaster({ defaultDelayMs: 5 });
    const stack: BenchStack = {
      dynamodbEndpoint: shared.dynamodbEndpoint,
      upstashUrl: upstash.url,
      upstashToken: token,
      redis: { host: shared.redisHost, port: shared.redisPort, password: shared.redisPassword },
      upstashRequestCount: () => upstash.requestCount(),
      gameMaster,
      processGroups: {},
    };
    run = await runBench(
      stack,
      { entries: ENTRIES, gmDelayMs: 5, gmFailureRate: 0.1, modes: ['seed', 'batched'], moduleLoadSamples: 2 },
      silentProgress,
    );
    outDir = mkdtempSync(join(os.tmpdir(), 'bench-test-'));
    writeOutputs(outDir, run);
    written = JSON.parse(readFileSync(join(outDir, RESULTS_FILE), 'utf8')) as Record<string, unknown>;
  }, 180_000);

  afterAll(async () => {
    await Promise.all([upstash?.close(), gameMaster?.close()]);
    if (outDir !== '') rmSync(outDir, { recursive: true, force: true });
  });

  it('drains the whole backlog in both modes', () => {
    for (const mode of ['seed', 'batched'] as const) {
      const figures = run.results.modes[mode];
      expect(figures?.entries).toBe(ENTRIES);
      const summary = figures?.summary;
      expect(
        (summary?.applied ?? 0) + (summary?.ignored ?? 0) + (summary?.invalid ?? 0) + (summary?.deadLettered ?? 0),
      ).toBe(ENTRIES);
    }
  });

  it('finds the same final state in both modes, and the one the backlog requires', () => {
    expect(run.results.finalState).toEqual({
      compared: true,
      differences: [],
      unexpected: { seed: [], batched: [] },
      ok: true,
    });
  });

  it('writes every figure to results.json', () => {
    const missing = NUMERIC_FIELDS.filter((path) => typeof at(written, path) !== 'number');
    expect(missing).toEqual([]);
    expect(at(written, 'targets')).toHaveLength(8);
    expect(at(written, 'machine.node')).toBe(process.version);
  });

  it('draws one line per mode in the chart', () => {
    const svg = readFileSync(join(outDir, CHART_FILE), 'utf8');
    expect(svg.match(/<polyline /g)).toHaveLength(2);
  });
});
