/**
 * `npm run bench`: the consumer's default (batched) mode against its seed-compatible mode on
 * the local stack, on equal fresh backlogs. Prints a table, writes results.json and
 * throughput.svg into bench/results/ (ignored by git), and exits 1 if the modes do not end
 * in the same (expected) state. docs/performance.md explains the figures.
 *
 *   npm run bench
 *   npm run bench -- --entries 2000 --gm-delay 20 --modes batched --max-concurrency 16
 *   npm run bench -- --entries 2000 --lambda-memory 256 --dynamodb-latency 5 --upstash-latency 3
 *   npm run bench -- --latency          follow vs drain mode latency (bench/latency-cli.ts)
 *   npm run bench -- --baseline main --lambda-memory 1024   this tree's handler against main's, alternating
 */
import '../scripts/support/quiet-sdk-node-warning.js';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { startLocalStack } from '../local/stack.js';
import { runBench } from './bench.js';
import type { BenchOptions } from './bench.js';
import { lambdaMemory, modeList, stackOptions, wholeNumber } from './cli-options.js';
import type { StackCliOptions } from './cli-options.js';
import { handlerNode } from './handler-node.js';
import { writeJson, writeOutputs } from './outputs.js';
import { formatSideBySide, runSideBySide } from './side-by-side.js';
import { terminalProgress } from './progress.js';
import { formatReport } from './report.js';
import type { ConsumerModeName } from './run-mode.js';
import { benchStackOf } from './stack.js';

// `--latency` selects the latency benchmark, which has options of its own (bench/latency-cli.ts).
if (process.argv.includes('--latency')) {
  await import('./latency-cli.js');
  process.exit();
}

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

interface CliOptions extends StackCliOptions {
  modes: ConsumerModeName[];
  batchSize?: number;
  maxConcurrency?: number;
  loadSamples: number;
  lambdaMemory?: number;
  out: string;
  baseline?: string;
  tracing?: boolean;
  repeat: number;
}

const program = new Command('bench').description(
  'Benchmark the start-flow consumer: default (batched) vs seed-compatible mode on the local stack.',
);
for (const option of stackOptions()) program.addOption(option);
program
  .addOption(
    new Option('--modes <list>', 'modes to run, in order')
      .argParser(modeList)
      .default(['seed', 'batched'], 'seed,batched'),
  )
  .addOption(
    new Option('--batch-size <n>', 'BATCH_SIZE of the default mode (handler default: 100)').argParser(wholeNumber(1)),
  )
  .addOption(
    new Option('--max-concurrency <n>', 'MAX_CONCURRENCY of the default mode (handler default: 16)').argParser(
      wholeNumber(1),
    ),
  )
  .addOption(
    new Option('--load-samples <n>', 'fresh processes timing the bundle import').argParser(wholeNumber(1)).default(10),
  )
  .addOption(
    new Option(
      '--lambda-memory <MB>',
      'run the handler as a Lambda function of this size: its CPU share (cgroup quota) and heap limits',
    ).argParser(lambdaMemory),
  )
  .addOption(
    new Option('--out <dir>', 'where results.json and throughput.svg go').default(RESULTS_DIR, 'bench/results/'),
  )
  .addOption(
    new Option(
      '--baseline <git ref>',
      "measure this tree's handler against that commit's, built the same way, in alternating runs (default mode only)",
    ),
  )
  .addOption(
    new Option('--tracing', "this tree's handler with tracing off against on, alternating").conflicts('baseline'),
  )
  .addOption(
    new Option('--repeat <n>', 'with --baseline or --tracing: runs of each side').argParser(wholeNumber(1)).default(3),
  )
  .addOption(
    new Option('--latency', 'run the latency benchmark instead (its options: npm run bench -- --latency --help)'),
  );

program.parse();
const cli = program.opts<CliOptions>();

const batchedEnv: Record<string, string> = {
  ...(cli.batchSize === undefined ? {} : { BATCH_SIZE: String(cli.batchSize) }),
  ...(cli.maxConcurrency === undefined ? {} : { MAX_CONCURRENCY: String(cli.maxConcurrency) }),
};
const options: BenchOptions = {
  entries: cli.entries,
  gmDelayMs: cli.gmDelay,
  gmFailureRate: cli.gmFailureRate,
  modes: cli.modes,
  batchedEnv,
  addedLatencyMs: { dynamodb: cli.dynamodbLatency, upstash: cli.upstashLatency },
  warmUpEntries: cli.warmUp,
  moduleLoadSamples: cli.loadSamples,
  ...(cli.lambdaMemory === undefined ? {} : { lambdaMemoryMb: cli.lambdaMemory }),
  node: handlerNode(cli.node),
};

console.error('Starting the local stack (redis-server, Upstash REST server, DynamoDB Local, Game Master stub)…');
const stack = await startLocalStack({ gameMaster: { defaultDelayMs: cli.gmDelay } });
let ok = false;
try {
  if (cli.baseline !== undefined || cli.tracing === true) {
    const results = await runSideBySide(
      benchStackOf(stack),
      {
        ...(cli.baseline === undefined ? {} : { baselineRef: cli.baseline }),
        repeat: cli.repeat,
        entries: cli.entries,
        gmFailureRate: cli.gmFailureRate,
        addedLatencyMs: options.addedLatencyMs ?? {},
        warmUpEntries: cli.warmUp,
        ...(cli.lambdaMemory === undefined ? {} : { lambdaMemoryMb: cli.lambdaMemory }),
        node: options.node ?? handlerNode(),
      },
      terminalProgress(),
      (line) => console.error(line),
    );
    const path = writeJson(cli.out, cli.baseline === undefined ? 'tracing.json' : 'baseline.json', results);
    console.log(formatSideBySide(results));
    console.log(`\nwrote ${path}`);
    ok = results.unexpected.base.length === 0 && results.unexpected.head.length === 0;
  } else {
    const run = await runBench(benchStackOf(stack), options, terminalProgress());
    const written = writeOutputs(cli.out, run);
    console.log(formatReport(run.results));
    console.log(`\nwrote ${written.results} and ${written.chart}`);
    ok = run.results.finalState.ok;
  }
} finally {
  await stack.stop();
}
if (!ok) {
  console.error('\nFAILED: the final states are not the same (see above)');
  process.exitCode = 1;
}
