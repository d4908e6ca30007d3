/**
 * `npm run bench:lambda-sizes`: the default mode at several Lambda memory sizes, each run
 * in that size's CPU share (a cgroup quota) and heap limits, with the emulated network on.
 * For each size: entries/s draining a backlog, handler CPU per entry, what the quota held
 * back, the cost per million entries and of a follower that runs all month; with `--burst`,
 * also the latency of a burst met by a follower (`POLL_INTERVAL_MS`). Prints a Markdown
 * table (the one in docs/performance.md); exits 1 if a run does not end in the state its
 * backlog requires.
 *
 *   npm run bench:lambda-sizes
 *   npm run bench:lambda-sizes -- --sizes 256,1769 --repeat 1 --entries 1000
 *   npm run bench:lambda-sizes -- --burst 500 --poll-interval-ms 1000
 */
import '../scripts/support/quiet-sdk-node-warning.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { Command, Option } from 'commander';
import { DEFAULTS } from '../lib/config.js';
import { startLocalStack } from '../local/stack.js';
import { buildBacklog } from './backlog.js';
import { lambdaMemory, stackOptions, wholeNumber } from './cli-options.js';
import type { StackCliOptions } from './cli-options.js';
import { describeHandlerNode, handlerNode } from './handler-node.js';
import { bundleDrainChild, describeHeapLimits } from './drain-process.js';
import { expectedFinalState } from './expected-state.js';
import { modeFigures } from './figures.js';
import type { ModeFigures } from './figures.js';
import { compareFinalStates } from './final-state.js';
import { LAMBDA_PRICES, usdPerFollowerMonth, usdPerMillionEntries } from './lambda-prices.js';
import { terminalProgress } from './progress.js';
import { runMode, warmUp } from './run-mode.js';
import type { ModeContext } from './run-mode.js';
import { median } from './stats.js';
import { sourceVersion } from './source-version.js';
import { benchStackOf } from './stack.js';

interface CliOptions extends StackCliOptions {
  sizes: number[];
  repeat: number;
  burst: number;
  pollIntervalMs?: number;
  maxConcurrency?: number;
  batchSize?: number;
  json: string;
}

/** What the deployed function works per invocation: its timeout less the time-budget margin. */
const WORKING_SECONDS = (50_000 - DEFAULTS.tuning.timeBudgetMarginMs) / 1_000;

const program = new Command('bench:lambda-sizes').description(
  'The default mode at several Lambda memory sizes (CPU share and heap limits), with the emulated network.',
);
for (const option of stackOptions()) {
  // A sweep of short runs with the network on, unless told otherwise.
  if (option.long === '--entries') option.default(2_000);
  if (option.long === '--dynamodb-latency') option.default(5);
  if (option.long === '--upstash-latency') option.default(3);
  program.addOption(option);
}
program
  .addOption(
    new Option('--sizes <list>', 'memory sizes in MB')
      .argParser((value: string) => value.split(',').map((part) => lambdaMemory(part.trim())))
      .default([256, 512, 1_024, 1_769], '256,512,1024,1769'),
  )
  .addOption(new Option('--repeat <n>', 'runs per size; the table shows medians').argParser(wholeNumber(1)).default(3))
  .addOption(
    new Option('--burst <n>', 'also a burst of this many results met by a follower (0: none)')
      .argParser(wholeNumber(0))
      .default(0),
  )
  .addOption(
    new Option('--poll-interval-ms <ms>', 'POLL_INTERVAL_MS of the burst runs (follow mode)').argParser(wholeNumber(1)),
  )
  .addOption(
    new Option('--max-concurrency <n>', 'MAX_CONCURRENCY (handler default otherwise)').argParser(wholeNumber(1)),
  )
  .addOption(new Option('--batch-size <n>', 'BATCH_SIZE (handler default otherwise)').argParser(wholeNumber(1)))
  .addOption(
    new Option('--json <file>', 'every run’s figures').default('bench/results/lambda-sizes.json', 'bench/results/…'),
  );
program.parse();
const cli = program.opts<CliOptions>();

const tuningEnv: Record<string, string> = {
  ...(cli.maxConcurrency === undefined ? {} : { MAX_CONCURRENCY: String(cli.maxConcurrency) }),
  ...(cli.batchSize === undefined ? {} : { BATCH_SIZE: String(cli.batchSize) }),
};

const markdownRow = (cells: readonly (string | number)[]): string => `| ${cells.join(' | ')} |`;
const figure = (value: number, digits = 1): string =>
  Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: digits }) : '–';
const usd = (value: number): string => `$${value.toFixed(2)}`;

interface SizeRuns {
  readonly memoryMb: number;
  readonly drains: ModeFigures[];
  readonly bursts: ModeFigures[];
}

const tableRow = ({ memoryMb, drains, bursts }: SizeRuns): string => {
  const mid = (runs: readonly ModeFigures[], pick: (figures: ModeFigures) => number): number => median(runs.map(pick));
  const entriesPerSecond = mid(drains, (f) => f.entriesPerSecond);
  const quota = drains[0]?.lambda;
  const heldBack = mid(drains, (f) => (f.lambda?.throttledMs ?? Number.NaN) / 1_000 / f.drainSeconds);
  return markdownRow([
    memoryMb.toLocaleString('en-US'),
    figure(quota?.vcpus ?? Number.NaN, 3),
    quota?.quota === undefined ? 'NONE' : 'yes',
    figure(entriesPerSecond),
    drains.map((f) => f.entriesPerSecond).join(', '),
    figure(mid(drains, (f) => f.secondHalf?.entriesPerSecond ?? Number.NaN)),
    figure(
      mid(drains, (f) => f.consumerCpuMsPerEntry),
      2,
    ),
    figure(
      mid(drains, (f) => f.secondHalf?.consumerCpuMsPerEntry ?? Number.NaN),
      2,
    ),
    figure(heldBack * 100, 0),
    ...(bursts.length === 0
      ? []
      : [
          figure(
            mid(bursts, (f) => f.latencyMs.p50),
            0,
          ),
          figure(
            mid(bursts, (f) => f.latencyMs.p99),
            0,
          ),
          bursts.map((f) => f.latencyMs.p99).join(', '),
        ]),
    figure(mid(drains, (f) => f.peakRssMb)),
    usd(usdPerMillionEntries({ memoryMb, workingSecondsPerInvocation: WORKING_SECONDS }, entriesPerSecond)),
    usd(usdPerFollowerMonth(memoryMb)),
  ]);
};

const node = handlerNode(cli.node);
const stack = await startLocalStack({ gameMaster: { defaultDelayMs: cli.gmDelay } });
const workDir = mkdtempSync(join(os.tmpdir(), 'start-flow-sizes-'));
let failed = false;
try {
  const drainChild = await bundleDrainChild(workDir);
  const backlog = buildBacklog({ entries: cli.entries, gmFailureRate: cli.gmFailureRate });
  const expected = expectedFinalState(backlog);
  const burstBacklog =
    cli.burst > 0 ? buildBacklog({ entries: cli.burst, gmFailureRate: cli.gmFailureRate }) : undefined;
  const base: Omit<ModeContext, 'lambdaMemoryMb'> = {
    stack: benchStackOf(stack),
    backlog,
    drainChild,
    progress: terminalProgress(),
    addedLatencyMs: { dynamodb: cli.dynamodbLatency, upstash: cli.upstashLatency },
    node,
  };
  await warmUp(base, cli.warmUp);
  const sizes: SizeRuns[] = [];
  for (const memoryMb of cli.sizes) {
    const runs: SizeRuns = { memoryMb, drains: [], bursts: [] };
    for (let round = 0; round < cli.repeat; round += 1) {
      const run = await runMode(
        { ...base, lambdaMemoryMb: memoryMb },
        { mode: 'batched', entries: cli.entries, label: `${memoryMb} MB, drain`, env: tuningEnv },
      );
      const differences = compareFinalStates(expected, run.finalState);
      if (differences.length > 0) {
        failed = true;
        console.error(`${memoryMb} MB: final state NOT as the backlog requires:\n  ${differences.join('\n  ')}`);
      }
      const drain = modeFigures(run);
      runs.drains.push(drain);
      console.error(
        `${memoryMb} MB, drain ${round + 1}: ${drain.entriesPerSecond} entries/s, ` +
          `${drain.consumerCpuMsPerEntry} ms CPU / entry, ${drain.lambda?.quota === undefined ? 'NO quota' : 'quota'}`,
      );
      if (burstBacklog !== undefined) {
        const burst = await runMode(
          { ...base, backlog: burstBacklog, lambdaMemoryMb: memoryMb },
          {
            mode: 'batched',
            entries: cli.burst,
            label: `${memoryMb} MB, burst`,
            env: {
              ...tuningEnv,
              ...(cli.pollIntervalMs === undefined ? {} : { POLL_INTERVAL_MS: String(cli.pollIntervalMs) }),
            },
            burst: { settleMs: 3_000, timeoutMs: 120_000 },
          },
        );
        const figures = modeFigures(burst);
        runs.bursts.push(figures);
        console.error(
          `${memoryMb} MB, burst ${round + 1}: p50 ${figures.latencyMs.p50} ms, p99 ${figures.latencyMs.p99} ms`,
        );
      }
    }
    sizes.push(runs);
  }
  const burstColumns =
    burstBacklog === undefined
      ? []
      : [
          `burst of ${cli.burst}: p50 ms`,
          'p99 ms',
          `runs (p99 ms${cli.pollIntervalMs === undefined ? ', NO POLL_INTERVAL_MS' : ''})`,
        ];
  console.log(
    `\n${cli.entries.toLocaleString('en-US')} entries, Game Master ${cli.gmDelay} ms, added latency DynamoDB ` +
      `${cli.dynamodbLatency} ms / Upstash ${cli.upstashLatency} ms, ${cli.repeat} run(s) per size (medians); ` +
      `prices: ${LAMBDA_PRICES.source}, as of ${LAMBDA_PRICES.asOf}: $${LAMBDA_PRICES.usdPerGbSecond} per GB-s, ` +
      `$${LAMBDA_PRICES.usdPerMillionRequests} per million requests\n`,
  );
  const header = [
    'memory MB',
    'vCPU',
    'quota',
    'entries/s',
    'runs (entries/s)',
    'entries/s, second half',
    'CPU ms / entry',
    'second half',
    'held back %',
    ...burstColumns,
    'peak RSS MB',
    '$ / million entries',
    '$ / month, follower',
  ];
  console.log(markdownRow(header));
  console.log(markdownRow(header.map((_, index) => (index === 2 ? '---' : '---:'))));
  for (const size of sizes) console.log(tableRow(size));
  const source = sourceVersion();
  console.log(
    `\ncode measured: ${source.commit ?? 'unknown commit'}${source.uncommitted.length === 0 ? '' : ` + uncommitted: ${source.uncommitted.join(', ')}`}`,
  );
  console.log(describeHandlerNode(node));
  for (const size of sizes) console.log(describeHeapLimits(size.memoryMb));
  mkdirSync(dirname(cli.json), { recursive: true });
  writeFileSync(cli.json, `${JSON.stringify({ source, handlerNode: node, options: cli, sizes }, null, 2)}\n`);
  console.log(`\nwrote ${cli.json}`);
} finally {
  rmSync(workDir, { recursive: true, force: true });
  await stack.stop();
}
if (failed) process.exitCode = 1;
