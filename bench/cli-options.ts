/** Command-line argument parsers shared by the benchmark's entry points. */
import { InvalidArgumentError, Option } from 'commander';
import { ConsumerMode } from '../functions/runtime-job-results/environment.js';
import { handlerNode } from './handler-node.js';
import type { ConsumerModeName } from './run-mode.js';

/** A whole number of at least `min`. */
export const wholeNumber =
  (min: number) =>
  (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min) throw new InvalidArgumentError(`must be a whole number ≥ ${min}`);
    return Number(value);
  };

/** A Lambda memory size in MB: 128 to 10,240, as Lambda accepts. */
export const lambdaMemory = (value: string): number => {
  const mb = wholeNumber(128)(value);
  if (mb > 10_240) throw new InvalidArgumentError('must be at most 10240 (MB), the largest Lambda size');
  return mb;
};

/** A comma-separated list of whole numbers of at least `min`. */
export const wholeNumbers =
  (min: number) =>
  (value: string): number[] =>
    value.split(',').map((part) => wholeNumber(min)(part.trim()));

const fraction = (value: string): number => {
  const parsed = Number(value);
  if (value.trim() === '' || !(parsed >= 0 && parsed <= 1))
    throw new InvalidArgumentError('must be a number from 0 to 1');
  return parsed;
};

/** A path that runs as Node.js (bench/handler-node.ts), or a clear refusal. */
const nodeBinary = (path: string): string => {
  try {
    return handlerNode(path).path;
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
};

/** A comma-separated list of consumer modes (`seed`, `batched`). */
export const modeList = (value: string): ConsumerModeName[] => {
  const modes = value.split(',').map((mode) => mode.trim());
  const known: readonly string[] = Object.values(ConsumerMode);
  for (const mode of modes) {
    if (!known.includes(mode)) throw new InvalidArgumentError(`unknown mode "${mode}" (known: ${known.join(', ')})`);
  }
  return modes as ConsumerModeName[];
};

/** The options of the local stack and the backlog that every benchmark entry point takes. */
export const stackOptions = (): Option[] => [
  new Option('--entries <n>', 'results in the backlog').argParser(wholeNumber(1)).default(10_000),
  new Option('--gm-delay <ms>', 'Game Master stub answer delay').argParser(wholeNumber(0)).default(5),
  new Option('--gm-failure-rate <fraction>', 'share of games whose registration fails (500)')
    .argParser(fraction)
    .default(0.1),
  new Option('--dynamodb-latency <ms>', 'emulated round trip added to every DynamoDB request')
    .argParser(wholeNumber(0))
    .default(0),
  new Option('--upstash-latency <ms>', 'emulated round trip added to every Upstash request')
    .argParser(wholeNumber(0))
    .default(0),
  new Option('--warm-up <n>', 'entries of an untimed drain first (warms DynamoDB Local up)')
    .argParser(wholeNumber(0))
    .default(500),
  new Option(
    '--node <path>',
    "the Node.js binary that runs the handler (the function runtime's major gives the deployed figures)",
  )
    .argParser(nodeBinary)
    .default(process.execPath, "the bench's own"),
];

/** What {@link stackOptions} parse to. */
export interface StackCliOptions {
  entries: number;
  gmDelay: number;
  gmFailureRate: number;
  dynamodbLatency: number;
  upstashLatency: number;
  warmUp: number;
  node: string;
}
