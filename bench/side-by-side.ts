/**
 * `npm run bench -- --baseline <git ref>`: this tree's handler and the baseline's, each
 * drained in the default mode on fresh copies of one backlog, alternating (base, head, then
 * head, base, …) in one session, so the machine's drift falls on both alike. Reports the
 * medians of each side and the ratio of head to base; exits 1 if any run does not end in the
 * state the backlog requires. `--tracing` compares this tree's handler with itself instead:
 * tracing off (base) against on (head), its segments sent to a stand-in X-Ray daemon.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { buildBacklog } from './backlog.js';
import { bundleHandler } from './bundle.js';
import { prepareBaseline } from './baseline.js';
import { bundleDrainChild } from './drain-process.js';
import { expectedFinalState } from './expected-state.js';
import { modeFigures } from './figures.js';
import type { ModeFigures } from './figures.js';
import { compareFinalStates } from './final-state.js';
import type { HandlerNode } from './handler-node.js';
import { describeHandlerNode } from './handler-node.js';
import type { Progress } from './progress.js';
import { runMode, warmUp } from './run-mode.js';
import { sourceVersion } from './source-version.js';
import type { SourceVersion } from './source-version.js';
import type { BenchStack } from './stack.js';
import { median, ratio, round } from './stats.js';

export interface SideBySideOptions {
  /** The commit to compare with; absent, tracing off against on (`--tracing`). */
  readonly baselineRef?: string;
  /** Runs of each side. */
  readonly repeat: number;
  readonly entries: number;
  readonly gmFailureRate: number;
  readonly addedLatencyMs?: { readonly dynamodb?: number; readonly upstash?: number };
  readonly warmUpEntries: number;
  readonly lambdaMemoryMb?: number;
  readonly node: HandlerNode;
}

/** The figures compared, per side: the medians, and every run's. */
export interface Side {
  readonly entriesPerSecond: number;
  readonly consumerCpuMsPerEntry: number;
  readonly dynamodbRequestsPer1000: number;
  readonly upstashRequestsPer1000: number;
  readonly peakRssMb: number;
  readonly bundleBytes: number;
  readonly runs: readonly Pick<ModeFigures, 'entriesPerSecond' | 'consumerCpuMsPerEntry'>[];
}

export interface SideBySideResults {
  readonly generatedAt: string;
  readonly head: SourceVersion;
  readonly base: { readonly ref: string; readonly commit: string };
  /** `--tracing`: the segment documents the head side's runs sent the stand-in daemon. */
  readonly segmentsSent?: number;
  readonly handlerNode: HandlerNode;
  readonly options: SideBySideOptions;
  readonly sides: { readonly base: Side; readonly head: Side };
  /** Head over base. */
  readonly ratios: { readonly entriesPerSecond: number; readonly consumerCpuMsPerEntry: number };
  /** Runs that did not end in the state the backlog requires, by side. */
  readonly unexpected: { readonly base: readonly string[]; readonly head: readonly string[] };
  readonly loadAverage: { readonly start: readonly number[]; readonly end: readonly number[] };
}

const side = (figures: readonly ModeFigures[], bundleBytes: number): Side => {
  const medianOf = (pick: (f: ModeFigures) => number): number => round(median(figures.map(pick)), 2);
  return {
    entriesPerSecond: medianOf((f) => f.entriesPerSecond),
    consumerCpuMsPerEntry: medianOf((f) => f.consumerCpuMsPerEntry),
    dynamodbRequestsPer1000: medianOf((f) => f.dynamodbRequestsPer1000),
    upstashRequestsPer1000: medianOf((f) => f.upstashRequestsPer1000),
    peakRssMb: medianOf((f) => f.peakRssMb),
    bundleBytes,
    runs: figures.map((f) => ({
      entriesPerSecond: f.entriesPerSecond,
      consumerCpuMsPerEntry: f.consumerCpuMsPerEntry,
    })),
  };
};

/**
 * A stand-in X-Ray daemon: a UDP socket on loopback that counts the segment documents it
 * receives, and the variables that send a traced handler's segments there, as Lambda's
 * active tracing sets them (one trace header for every invocation: the cost is the same).
 */
const startXrayDaemon = async () => {
  const socket = createSocket('udp4');
  let received = 0;
  socket.on('message', () => {
    received += 1;
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  return {
    handlerEnv: { POWERTOOLS_TRACE_ENABLED: 'true' },
    processEnv: {
      AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${port}`,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      LAMBDA_TASK_ROOT: os.tmpdir(),
      AWS_LAMBDA_FUNCTION_NAME: 'runtime-job-results',
      _X_AMZN_TRACE_ID: `Root=1-${Math.floor(Date.now() / 1_000).toString(16)}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=1`,
    },
    received: () => received,
    close: () => socket.close(),
  };
};

const loadAverage = (): number[] => os.loadavg().map((load) => round(load, 2));

export const runSideBySide = async (
  stack: BenchStack,
  options: SideBySideOptions,
  progress: Progress,
  log: (line: string) => void,
): Promise<SideBySideResults> => {
  const loadAtStart = loadAverage();
  const workDir = mkdtempSync(join(os.tmpdir(), 'start-flow-side-by-side-'));
  try {
    const headBundle = await bundleHandler(workDir);
    const headChild = await bundleDrainChild(workDir);
    const baseline =
      options.baselineRef === undefined
        ? { ref: 'tracing off', commit: sourceVersion().commit ?? 'unknown', bundle: headBundle, drainChild: headChild }
        : await prepareBaseline(options.baselineRef, workDir, log);
    const children = { base: baseline.drainChild, head: headChild };
    const daemon = options.baselineRef === undefined ? await startXrayDaemon() : undefined;
    const headSpec = daemon === undefined ? {} : { env: daemon.handlerEnv, processEnv: daemon.processEnv };
    const backlog = buildBacklog({ entries: options.entries, gmFailureRate: options.gmFailureRate });
    const expected = expectedFinalState(backlog);
    const context = {
      stack,
      backlog,
      progress,
      node: options.node,
      addedLatencyMs: options.addedLatencyMs,
      ...(options.lambdaMemoryMb === undefined ? {} : { lambdaMemoryMb: options.lambdaMemoryMb }),
    };
    for (const drainChild of Object.values(children)) await warmUp({ ...context, drainChild }, options.warmUpEntries);

    const figures: Record<'base' | 'head', ModeFigures[]> = { base: [], head: [] };
    const unexpected: Record<'base' | 'head', string[]> = { base: [], head: [] };
    for (let round = 0; round < options.repeat; round += 1) {
      const order: ('base' | 'head')[] = round % 2 === 0 ? ['base', 'head'] : ['head', 'base'];
      for (const which of order) {
        const run = await runMode(
          { ...context, drainChild: children[which] },
          {
            mode: 'batched',
            entries: backlog.entries.length,
            label: `${which} ${round + 1}/${options.repeat}`,
            ...(which === 'head' ? headSpec : {}),
          },
        );
        figures[which].push(modeFigures(run));
        unexpected[which].push(
          ...compareFinalStates(expected, run.finalState).map((line) => `run ${round + 1}: ${line}`),
        );
      }
    }
    const sides = { base: side(figures.base, baseline.bundle.bytes), head: side(figures.head, headBundle.bytes) };
    daemon?.close();
    return {
      generatedAt: new Date().toISOString(),
      head: sourceVersion(),
      base: { ref: baseline.ref, commit: baseline.commit },
      ...(daemon === undefined ? {} : { segmentsSent: daemon.received() }),
      handlerNode: options.node,
      options,
      sides,
      ratios: {
        entriesPerSecond: round(ratio(sides.head.entriesPerSecond, sides.base.entriesPerSecond), 3),
        consumerCpuMsPerEntry: round(ratio(sides.head.consumerCpuMsPerEntry, sides.base.consumerCpuMsPerEntry), 3),
      },
      unexpected,
      loadAverage: { start: loadAtStart, end: loadAverage() },
    };
  } finally {
    if (!process.env.KEEP_BENCH_DIR) rmSync(workDir, { recursive: true, force: true });
  }
};

const number = (value: number): string =>
  Number.isFinite(value) ? value.toLocaleString('en-US', { maximumFractionDigits: 2 }) : '–';

/** The printed report: one row per figure, base and head side by side with their ratio. */
export const formatSideBySide = (results: SideBySideResults): string => {
  const { base, head } = results.sides;
  const rows: [string, (s: Side) => number, boolean][] = [
    ['entries / second (median)', (s) => s.entriesPerSecond, true],
    ['consumer CPU ms / entry (median)', (s) => s.consumerCpuMsPerEntry, true],
    ['DynamoDB requests / 1,000 entries', (s) => s.dynamodbRequestsPer1000, true],
    ['Upstash requests / 1,000 entries', (s) => s.upstashRequestsPer1000, true],
    ['peak RSS of the handler (MB)', (s) => s.peakRssMb, true],
    ['bundled handler (bytes)', (s) => s.bundleBytes, true],
  ];
  const table = [
    ['', `base ${results.base.commit.slice(0, 7)}`, `head ${results.head.commit?.slice(0, 7) ?? '?'}`, 'head / base'],
    ...rows.map(([label, pick]) => [
      label,
      number(pick(base)),
      number(pick(head)),
      `${number(ratio(pick(head), pick(base)))}×`,
    ]),
  ];
  const widths = table[0]?.map((_, column) => Math.max(...table.map((row) => row[column]?.length ?? 0))) ?? [];
  const lines = table.map((row) =>
    row
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[column] ?? 0)))
      .join('   '),
  );
  const runs = (s: Side): string =>
    s.runs.map((run) => `${number(run.entriesPerSecond)}/s ${number(run.consumerCpuMsPerEntry)} ms`).join(', ');
  const lambda =
    results.options.lambdaMemoryMb === undefined
      ? 'Lambda size: none emulated (whole machine CPU)'
      : `Lambda size: ${results.options.lambdaMemoryMb} MB's CPU share`;
  const wrong = [
    ...results.unexpected.base.map((l) => `base ${l}`),
    ...results.unexpected.head.map((l) => `head ${l}`),
  ];
  return [
    `base: ${results.base.ref} = ${results.base.commit}`,
    `head: ${results.head.commit ?? 'unknown commit'}${results.head.uncommitted.length === 0 ? '' : ` + uncommitted: ${results.head.uncommitted.join(', ')}`}`,
    describeHandlerNode(results.handlerNode),
    lambda,
    `${results.options.repeat} runs of each, alternating, ${number(results.options.entries)} entries each; load average ${results.loadAverage.start.join(' ')} → ${results.loadAverage.end.join(' ')}`,
    '',
    ...lines,
    '',
    `runs, base: ${runs(base)}`,
    `runs, head: ${runs(head)}`,
    ...(results.segmentsSent === undefined
      ? []
      : [`tracing on: ${number(results.segmentsSent)} segment documents sent to the stand-in X-Ray daemon`]),
    '',
    wrong.length === 0
      ? 'final state: every run as the backlog requires'
      : `final state NOT as required:\n  ${wrong.join('\n  ')}`,
  ].join('\n');
};
