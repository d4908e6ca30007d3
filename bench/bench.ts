/**
 * The benchmark itself, apart from its command line: bundles the handler (size, module
 * load), builds one backlog, runs each consumer mode on a fresh copy of it, checks that the
 * modes end in the same — and the expected — final state, and assembles results.json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { buildBacklog } from './backlog.js';
import { bundleHandler } from './bundle.js';
import { bundleDrainChild } from './drain-process.js';
import { expectedFinalState } from './expected-state.js';
import { modeFigures, ratios as ratiosOf, timelineOf } from './figures.js';
import type { ModeFigures, Ratios, Timeline } from './figures.js';
import { compareFinalStates } from './final-state.js';
import { handlerNode } from './handler-node.js';
import type { HandlerNode } from './handler-node.js';
import { measureModuleLoad } from './module-load.js';
import type { ModuleLoad } from './module-load.js';
import type { Progress } from './progress.js';
import { runMode, warmUp } from './run-mode.js';
import { sourceVersion } from './source-version.js';
import type { SourceVersion } from './source-version.js';
import type { ConsumerModeName, ModeRun } from './run-mode.js';
import type { BenchStack } from './stack.js';
import { checkTargets } from './targets.js';
import type { TargetCheck } from './targets.js';

export interface BenchOptions {
  readonly entries: number;
  /** Recorded only: the caller starts the Game Master stub with this delay. */
  readonly gmDelayMs: number;
  /** Fraction of games whose Game Master registration fails. */
  readonly gmFailureRate: number;
  /** Run in this order; the final-state comparison needs both. */
  readonly modes: readonly ConsumerModeName[];
  /** Handler variables for the default (batched) mode, e.g. `MAX_CONCURRENCY`. */
  readonly batchedEnv?: Readonly<Record<string, string>>;
  readonly addedLatencyMs?: { readonly dynamodb?: number; readonly upstash?: number };
  /** Entries of an untimed drain before the measured ones (see `warmUp`); none by default. */
  readonly warmUpEntries?: number;
  /** Fresh processes importing the bundle; 10 by default. */
  readonly moduleLoadSamples?: number;
  /** Run the drain child as a Lambda function of this memory size (heap limits, CPU quota). */
  readonly lambdaMemoryMb?: number;
  /** The Node.js that runs the handler (drain child and module load); the bench's own by default. */
  readonly node?: HandlerNode;
}

export interface FinalStateCheck {
  /** False when fewer than two modes ran. */
  readonly compared: boolean;
  /** Differences between the seed-compatible and the default mode's final states. */
  readonly differences: readonly string[];
  /** Per mode: differences from the state the backlog must produce. */
  readonly unexpected: Readonly<Record<string, readonly string[]>>;
  /** Everything compared agrees. */
  readonly ok: boolean;
}

export interface BenchResults {
  readonly generatedAt: string;
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memoryGiB: number;
    readonly node: string;
    readonly loadAverage: { readonly start: readonly number[]; readonly end: readonly number[] };
  };
  /** The code measured. */
  readonly source: SourceVersion;
  /** The Node.js that ran the handler: the function's runtime major, or flagged. */
  readonly handlerNode: HandlerNode;
  readonly options: BenchOptions;
  readonly backlog: {
    readonly entries: number;
    readonly games: number;
    readonly gameMasterFailingGames: number;
    readonly byKind: Readonly<Record<string, number>>;
  };
  readonly modes: Readonly<Record<string, ModeFigures>>;
  /** Default mode over seed-compatible mode; absent unless both ran. */
  readonly ratios?: Ratios;
  readonly finalState: FinalStateCheck;
  readonly bundle: { readonly bytes: number; readonly sourceMapBytes: number };
  readonly moduleLoad: ModuleLoad;
  readonly targets: readonly TargetCheck[];
}

export interface BenchRun {
  readonly results: BenchResults;
  /** Entries done over time, per mode, for the chart. */
  readonly timelines: Readonly<Record<string, Timeline>>;
}

const loadAverage = (): number[] => os.loadavg().map((load) => Math.round(load * 100) / 100);

/** Runs the benchmark against `stack`; `progress` follows seeding and draining. */
export const runBench = async (stack: BenchStack, options: BenchOptions, progress: Progress): Promise<BenchRun> => {
  const loadAtStart = loadAverage();
  const source = sourceVersion();
  const node = options.node ?? handlerNode();
  const workDir = mkdtempSync(join(os.tmpdir(), 'start-flow-bench-'));
  try {
    const bundle = await bundleHandler(workDir);
    const moduleLoad = measureModuleLoad(bundle.path, options.moduleLoadSamples ?? 10, { execPath: node.path });
    const drainChild = await bundleDrainChild(workDir);
    const backlog = buildBacklog({ entries: options.entries, gmFailureRate: options.gmFailureRate });
    const expected = expectedFinalState(backlog);
    await warmUp({ stack, drainChild, node, addedLatencyMs: options.addedLatencyMs }, options.warmUpEntries ?? 0);

    const runs: ModeRun[] = [];
    for (const mode of options.modes) {
      const run = await runMode(
        {
          stack,
          backlog,
          drainChild,
          progress,
          node,
          addedLatencyMs: options.addedLatencyMs,
          ...(options.lambdaMemoryMb === undefined ? {} : { lambdaMemoryMb: options.lambdaMemoryMb }),
        },
        { mode, entries: backlog.entries.length, env: mode === 'batched' ? options.batchedEnv : undefined },
      );
      runs.push(run);
    }

    const seed = runs.find((run) => run.spec.mode === 'seed');
    const batched = runs.find((run) => run.spec.mode === 'batched');
    const differences = seed && batched ? compareFinalStates(seed.finalState, batched.finalState) : [];
    const unexpected = Object.fromEntries(
      runs.map((run) => [run.spec.mode, compareFinalStates(expected, run.finalState)]),
    );
    const finalState: FinalStateCheck = {
      compared: seed !== undefined && batched !== undefined,
      differences,
      unexpected,
      ok: differences.length === 0 && Object.values(unexpected).every((list) => list.length === 0),
    };

    const figures = Object.fromEntries(runs.map((run) => [run.spec.mode, modeFigures(run)]));
    const seedFigures = figures.seed;
    const batchedFigures = figures.batched;
    const ratios = seedFigures && batchedFigures ? ratiosOf(batchedFigures, seedFigures) : undefined;
    const results: BenchResults = {
      generatedAt: new Date().toISOString(),
      machine: {
        cpus: os.availableParallelism(),
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
        node: process.version,
        loadAverage: { start: loadAtStart, end: loadAverage() },
      },
      source,
      handlerNode: node,
      options,
      backlog: {
        entries: backlog.entries.length,
        games: backlog.games.length,
        gameMasterFailingGames: backlog.games.filter((game) => game.gameMasterFails).length,
        byKind: backlog.counts,
      },
      modes: figures,
      ...(ratios === undefined ? {} : { ratios }),
      finalState,
      bundle: { bytes: bundle.bytes, sourceMapBytes: bundle.sourceMapBytes },
      moduleLoad,
      targets: checkTargets({
        batched: batchedFigures,
        ratios,
        bundleBytes: bundle.bytes,
        moduleLoadMs: moduleLoad.medianMs,
        emulatedNetwork: (options.addedLatencyMs?.dynamodb ?? 0) > 0 || (options.addedLatencyMs?.upstash ?? 0) > 0,
      }),
    };
    return { results, timelines: Object.fromEntries(runs.map((run) => [run.spec.mode, timelineOf(run)])) };
  } finally {
    if (!process.env.KEEP_BENCH_DIR) rmSync(workDir, { recursive: true, force: true });
  }
};
