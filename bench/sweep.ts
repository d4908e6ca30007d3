/**
 * `npx tsx bench/sweep.ts`: the default mode under several `MAX_CONCURRENCY` and `BATCH_SIZE`
 * values, each on a fresh copy of one backlog, printed as a Markdown table (the one in
 * docs/performance.md). Concurrency values run at the default batch size and batch sizes
 * at the default concurrency, unless `--grid` asks for every pair. Exits 1 if a run does
 * not end in the state the backlog requires.
 *
 *   npx tsx bench/sweep.ts --entries 3000 --repeat 3
 *   npx tsx bench/sweep.ts --concurrency 4,8,16 --batch-sizes 100 --dynamodb-latency 5
 */
import '../scripts/support/quiet-sdk-node-warning.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { DEFAULTS } from '../lib/config.js';
import { startLocalStack } from '../local/stack.js';
import { buildBacklog } from './backlog.js';
import { stackOptions, wholeNumber, wholeNumbers } from './cli-options.js';
import type { StackCliOptions } from './cli-options.js';
import { describeHandlerNode, handlerNode } from './handler-node.js';
import { bundleDrainChild, describeHeapLimits } from './drain-process.js';
import { expectedFinalState } from './expected-state.js';
import { modeFigures } from './figures.js';
import type { ModeFigures } from './figures.js';
import { compareFinalStates } from './final-state.js';
import { terminalProgress } from './progress.js';
import { runMode, warmUp } from './run-mode.js';
import type { ModeSpec } from './run-mode.js';
import { median } from './stats.js';
import { benchStackOf } from './stack.js';

/** The handler's defaults: the fixed value of the dimension not being varied. */
const DEFAULT_CONCURRENCY = DEFAULTS.tuning.maxConcurrency;
const DEFAULT_BATCH_SIZE = DEFAULTS.tuning.batchSize;

interface CliOptions extends StackCliOptions {
  concurrency: number[];
  batchSizes: number[];
  grid?: boolean;
  withSeed?: boolean;
  repeat: number;
  json?: string;
}

const program = new Command('sweep').description(
  'The default mode under several MAX_CONCURRENCY and BATCH_SIZE values.',
);
for (const option of stackOptions()) program.addOption(option);
program
  .addOption(
    new Option('--concurrency <list>', 'MAX_CONCURRENCY values')
      .argParser(wholeNumbers(1))
      .default([1, 4, 8, 16, 32], '1,4,8,16,32'),
  )
  .addOption(
    new Option('--batch-sizes <list>', 'BATCH_SIZE values')
      .argParser(wholeNumbers(1))
      .default([25, 50, 100, 200, 500], '25,50,100,200,500'),
  )
  .addOption(new Option('--grid', 'every concurrency with every batch size'))
  .addOption(new Option('--with-seed', 'add a seed-compatible run for reference'))
  .addOption(
    new Option('--repeat <n>', 'runs per configuration; the table shows medians').argParser(wholeNumber(1)).default(1),
  )
  .addOption(new Option('--json <file>', 'also write every run’s figures here'));
program.parse();
const cli = program.opts<CliOptions>();

const configurations = (): ModeSpec[] => {
  const pairs = cli.grid
    ? cli.concurrency.flatMap((concurrency) => cli.batchSizes.map((batchSize) => [concurrency, batchSize] as const))
    : [
        ...cli.concurrency.map((concurrency) => [concurrency, DEFAULT_BATCH_SIZE] as const),
        ...cli.batchSizes.map((batchSize) => [DEFAULT_CONCURRENCY, batchSize] as const),
      ];
  const unique = [...new Map(pairs.map((pair) => [pair.join('/'), pair])).values()];
  return [
    ...(cli.withSeed ? [{ mode: 'seed' as const, entries: cli.entries, label: 'seed-compatible' }] : []),
    ...unique.map(([concurrency, batchSize]) => ({
      mode: 'batched' as const,
      entries: cli.entries,
      label: `concurrency ${concurrency}, batch ${batchSize}`,
      env: { MAX_CONCURRENCY: String(concurrency), BATCH_SIZE: String(batchSize) },
    })),
  ];
};

const markdownRow = (cells: readonly (string | number)[]): string => `| ${cells.join(' | ')} |`;

const tableRow = (spec: ModeSpec, runs: readonly ModeFigures[]): string => {
  const mid = (pick: (figures: ModeFigures) => number): string =>
    median(runs.map(pick)).toLocaleString('en-US', { maximumFractionDigits: 1 });
  return markdownRow([
    spec.mode === 'seed' ? 'seed-compatible' : (spec.env?.MAX_CONCURRENCY ?? ''),
    spec.mode === 'seed' ? '1' : (spec.env?.BATCH_SIZE ?? ''),
    mid((f) => f.entriesPerSecond),
    runs.map((f) => f.entriesPerSecond).join(', '),
    mid((f) => f.upstashRequestsPer1000),
    mid((f) => f.dynamodbRequestsPer1000),
    mid((f) => f.latencyMs.p50),
    mid((f) => f.latencyMs.p99),
    mid((f) => f.peakRssMb),
    mid((f) => f.consumerCpuMsPerEntry),
  ]);
};

const node = handlerNode(cli.node);
const stack = await startLocalStack({ gameMaster: { defaultDelayMs: cli.gmDelay } });
const workDir = mkdtempSync(join(os.tmpdir(), 'start-flow-sweep-'));
let failed = false;
try {
  const drainChild = await bundleDrainChild(workDir);
  const backlog = buildBacklog({ entries: cli.entries, gmFailureRate: cli.gmFailureRate });
  const expected = expectedFinalState(backlog);
  const context = {
    stack: benchStackOf(stack),
    backlog,
    drainChild,
    progress: terminalProgress(),
    addedLatencyMs: { dynamodb: cli.dynamodbLatency, upstash: cli.upstashLatency },
    node,
  };
  await warmUp(context, cli.warmUp);
  const rows: string[] = [];
  const all: ModeFigures[] = [];
  for (const spec of configurations()) {
    const runs: ModeFigures[] = [];
    for (let round = 0; round < cli.repeat; round += 1) {
      const run = await runMode(context, spec);
      const differences = compareFinalStates(expected, run.finalState);
      if (differences.length > 0) {
        failed = true;
        console.error(
          `${spec.label ?? spec.mode}: final state NOT as the backlog requires:\n  ${differences.join('\n  ')}`,
        );
      }
      runs.push(modeFigures(run));
    }
    all.push(...runs);
    rows.push(tableRow(spec, runs));
  }
  console.log(
    `\n${cli.entries.toLocaleString('en-US')} entries, Game Master ${cli.gmDelay} ms, ` +
      `added latency DynamoDB ${cli.dynamodbLatency} ms / Upstash ${cli.upstashLatency} ms, ${cli.repeat} run(s) each (medians)\n`,
  );
  console.log(
    markdownRow([
      'MAX_CONCURRENCY',
      'BATCH_SIZE',
      'entries/s',
      'runs (entries/s)',
      'Upstash / 1k',
      'DynamoDB / 1k',
      'p50 ms',
      'p99 ms',
      'peak RSS MB',
      'CPU ms / entry',
    ]),
  );
  console.log(markdownRow(Array.from({ length: 10 }, (_, index) => (index < 2 ? '---' : '---:'))));
  for (const row of rows) console.log(row);
  console.log(`\n${describeHandlerNode(node)}`);
  console.log(describeHeapLimits(DEFAULTS.memorySizeMb));
  if (cli.json !== undefined) writeFileSync(cli.json, `${JSON.stringify(all, null, 2)}\n`);
} finally {
  rmSync(workDir, { recursive: true, force: true });
  await stack.stop();
}
if (failed) process.exitCode = 1;
