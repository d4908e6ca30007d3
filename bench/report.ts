/**
 * The benchmark's printed report: one table of the modes side by side with their ratio,
 * then the bundle, the final-state check and the targets.
 */
import { DEFAULTS } from '../lib/config.js';
import type { BenchResults } from './bench.js';
import { describeHeapLimits } from './drain-process.js';
import type { ModeFigures } from './figures.js';
import { describeHandlerNode } from './handler-node.js';
import { MODE_LABELS } from './outputs.js';

const number = (value: number): string =>
  Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: 2 }) : '–';
const times = (value: number | undefined): string =>
  value === undefined || !Number.isFinite(value) ? '' : `${number(value)}×`;

/** Lays out rows as columns: the first left-aligned, the rest right-aligned. */
const formatTable = (rows: readonly (readonly string[])[]): string => {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, index) => (index === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[index] ?? 0)))
        .join('   '),
    )
    .join('\n');
};

interface Row {
  readonly label: string;
  readonly value: (figures: ModeFigures) => string;
  readonly ratio?: number;
}

const operations = (figures: ModeFigures): string =>
  Object.entries(figures.dynamodbRequestsByOperation)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([operation, count]) => `${operation} ${number(count)}`)
    .join(', ');

export const formatReport = (results: BenchResults): string => {
  const modes = Object.values(results.modes);
  const ratios = results.ratios;
  const rows: Row[] = [
    { label: 'entries', value: (f) => number(f.entries) },
    { label: 'drain time (s)', value: (f) => number(f.drainSeconds) },
    { label: 'entries / second', value: (f) => number(f.entriesPerSecond), ratio: ratios?.entriesPerSecond },
    {
      label: 'Upstash requests / 1,000 entries',
      value: (f) => number(f.upstashRequestsPer1000),
      ratio: ratios?.upstashRequestsPer1000,
    },
    {
      label: 'DynamoDB requests / 1,000 entries',
      value: (f) => number(f.dynamodbRequestsPer1000),
      ratio: ratios?.dynamodbRequestsPer1000,
    },
    { label: 'Game Master calls', value: (f) => number(f.gameMasterCalls) },
    { label: 'latency p50 (ms, entry id → offset)', value: (f) => number(f.latencyMs.p50), ratio: ratios?.latencyP50 },
    { label: 'latency p99 (ms)', value: (f) => number(f.latencyMs.p99), ratio: ratios?.latencyP99 },
    { label: 'invocations (50 s timeout)', value: (f) => number(f.invocations), ratio: ratios?.invocations },
    { label: 'offset commits', value: (f) => number(f.offsetCommits) },
    { label: 'peak RSS of the handler (MB)', value: (f) => number(f.peakRssMb), ratio: ratios?.peakRss },
    { label: 'consumer CPU (ms / entry)', value: (f) => number(f.consumerCpuMsPerEntry) },
    { label: 'second half: entries / second', value: (f) => number(f.secondHalf?.entriesPerSecond ?? Number.NaN) },
    {
      label: 'second half: consumer CPU (ms / entry)',
      value: (f) => number(f.secondHalf?.consumerCpuMsPerEntry ?? Number.NaN),
    },
    ...(modes.some((f) => f.lambda?.throttledMs !== undefined)
      ? [
          {
            label: 'held back by the CPU quota (s)',
            value: (f: ModeFigures) => number((f.lambda?.throttledMs ?? 0) / 1_000),
          },
        ]
      : []),
    { label: 'CPU s: handler process', value: (f) => number(f.cpuSeconds.consumer) },
    { label: 'CPU s: bench process (REST server, proxy, stub)', value: (f) => number(f.cpuSeconds.benchProcess) },
    { label: 'CPU s: DynamoDB Local', value: (f) => number(f.cpuSeconds.dynamodbLocal) },
    { label: 'CPU s: redis-server', value: (f) => number(f.cpuSeconds.redis) },
    { label: 'CPU s: whole machine (all cores, everyone)', value: (f) => number(f.cpuSeconds.machine) },
  ];
  const header = ['', ...modes.map((f) => MODE_LABELS[f.mode] ?? f.mode), ...(ratios ? ['default / seed'] : [])];
  const table = formatTable([
    header,
    ...rows.map((row) => [row.label, ...modes.map(row.value), ...(ratios ? [times(row.ratio)] : [])]),
  ]);

  const { bundle, moduleLoad, finalState, source } = results;
  const uncommitted = source.uncommitted.length === 0 ? '' : ` + uncommitted: ${source.uncommitted.join(', ')}`;
  const lambda = modes.find((f) => f.lambda !== undefined)?.lambda;
  const lambdaLine =
    lambda === undefined
      ? 'Lambda size: none emulated (whole machine CPU, the deployed default heap limits)'
      : `Lambda size: ${lambda.memoryMb} MB = ${number(lambda.vcpus)} vCPU, heap limits of that size; ` +
        (lambda.quota === undefined
          ? `NO CPU QUOTA (${lambda.unavailable ?? 'unknown reason'}): the child had the whole machine`
          : `CPU quota by ${lambda.quota}`);
  const heapLine = describeHeapLimits(lambda?.memoryMb ?? DEFAULTS.memorySizeMb);
  const lines = [
    `code measured: ${source.commit ?? 'unknown commit'}${uncommitted}`,
    describeHandlerNode(results.handlerNode),
    lambdaLine,
    heapLine,
    '',
    table,
    '',
    ...modes.map((f) => `DynamoDB requests, ${MODE_LABELS[f.mode] ?? f.mode}: ${operations(f)}`),
    `bundled handler: ${number(bundle.bytes)} bytes (+ ${number(bundle.sourceMapBytes)} bytes of source map)`,
    `module load: median ${number(moduleLoad.medianMs)} ms for the import, ${number(moduleLoad.medianProcessMs)} ms for the whole process ` +
      `(${moduleLoad.samplesMs.length} fresh processes${moduleLoad.sourceMaps ? ', --enable-source-maps as in Lambda' : ''})`,
    '',
    finalState.compared
      ? finalState.differences.length === 0
        ? 'final state: both modes agree (statuses by game, stop jobs, intents by key, dead letters by reason)'
        : `final state: the modes DIFFER:\n  ${finalState.differences.join('\n  ')}`
      : 'final state: not compared (only one mode ran)',
    ...Object.entries(finalState.unexpected).map(([mode, differences]) =>
      differences.length === 0
        ? `final state of ${mode}: as the backlog requires`
        : `final state of ${mode}: NOT as the backlog requires:\n  ${differences.join('\n  ')}`,
    ),
    '',
    'targets:',
    formatTable(
      results.targets.map((check) => [
        `  ${check.met === null ? '·' : check.met ? '✓' : '✗'} ${check.name}`,
        check.target,
        check.measured,
      ]),
    ),
  ];
  return lines.join('\n');
};
