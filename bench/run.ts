/**
 * `npm run bench`: the consumer's default (batched) mode against its seed-compatible mode on
 * the local stack, on equal fresh backlogs. Prints a table, writes bench/results.json and
 * bench/throughput.svg, and exits 1 if the modes do not end in the same (expected) state.
 * docs/performance.md explains the figures.
 *
 *   npm run bench
 *   npm run bench -- --entries 2000 --gm-delay 20 --modes batched --max-concurrency 16
 */
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConsumerMode } from '../functions/runtime-job-results/config.js';
import { startLocalStack } from '../local/stack.js';
import { runBench } from './bench.js';
import type { BenchOptions } from './bench.js';
import { writeOutputs } from './outputs.js';
import { terminalProgress } from './progress.js';
import { formatReport } from './report.js';
import type { ConsumerModeName } from './run-mode.js';
import { benchStackOf } from './stack.js';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));

const wholeNumber =
  (min: number) =>
  (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min) throw new InvalidArgumentError(`must be a whole number ≥ ${min}`);
    return Number(value);
  };

const fraction = (value: string): number => {
  const parsed = Number(value);
  if (value.trim() === '' || !(parsed >= 0 && parsed <= 1)) throw new InvalidArgumentError('must be a number from 0 to 1');
  return parsed;
};

const modeList = (value: string): ConsumerModeName[] => {
  const modes = value.split(',').map((mode) => mode.trim());
  const known: readonly string[] = Object.values(ConsumerMode);
  for (const mode of modes) {
    if (!known.includes(mode)) throw new InvalidArgumentError(`unknown mode "${mode}" (known: ${known.join(', ')})`);
  }
  return modes as ConsumerModeName[];
};

interface CliOptions {
  entries: number;
  gmDelay: number;
  gmFailureRate: number;
  modes: ConsumerModeName[];
  batchSize?: number;
  maxConcurrency?: number;
  dynamodbLatency: number;
  upstashLatency: number;
  loadSamples: number;
  profile?: string;
  out: string;
}

const program = new Command('bench')
  .description('Benchmark the start-flow consumer: default (batched) vs seed-compatible mode on the local stack.')
  .addOption(new Option('--entries <n>', 'results in the backlog').argParser(wholeNumber(1)).default(10_000))
  .addOption(new Option('--gm-delay <ms>', 'Game Master stub answer delay').argParser(wholeNumber(0)).default(5))
  .addOption(new Option('--gm-failure-rate <fraction>', 'share of games whose registration fails (500)').argParser(fraction).default(0.1))
  .addOption(new Option('--modes <list>', 'modes to run, in order').argParser(modeList).default(['seed', 'batched'], 'seed,batched'))
  .addOption(new Option('--batch-size <n>', 'BATCH_SIZE of the default mode (handler default: 100)').argParser(wholeNumber(1)))
  .addOption(new Option('--max-concurrency <n>', 'MAX_CONCURRENCY of the default mode (handler default: 8)').argParser(wholeNumber(1)))
  .addOption(new Option('--dynamodb-latency <ms>', 'emulated round trip added to every DynamoDB request').argParser(wholeNumber(0)).default(0))
  .addOption(new Option('--upstash-latency <ms>', 'emulated round trip added to every Upstash request').argParser(wholeNumber(0)).default(0))
  .addOption(new Option('--load-samples <n>', 'fresh processes timing the bundle import').argParser(wholeNumber(1)).default(10))
  .addOption(new Option('--profile <dir>', 'write a CPU profile of each drain child here and summarise it'))
  .addOption(new Option('--out <dir>', 'where results.json and throughput.svg go').default(BENCH_DIR, 'bench/'));

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
  moduleLoadSamples: cli.loadSamples,
  ...(cli.profile === undefined ? {} : { profileDir: cli.profile }),
};

// The handler's SDK clients live in the drain child; this only quiets the seeding client.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
console.error('Starting the local stack (redis-server, Upstash REST server, DynamoDB Local, Game Master stub)…');
const stack = await startLocalStack({ gameMaster: { defaultDelayMs: cli.gmDelay } });
let ok = false;
try {
  const run = await runBench(benchStackOf(stack), options, terminalProgress());
  const written = writeOutputs(cli.out, run);
  console.log(formatReport(run.results));
  console.log(`\nwrote ${written.results} and ${written.chart}`);
  ok = run.results.finalState.ok;
} finally {
  await stack.stop();
}
if (!ok) {
  console.error('\nFAILED: the final states are not the same (see above)');
  process.exitCode = 1;
}
