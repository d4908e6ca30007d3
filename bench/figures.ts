/**
 * The figures of one run, as printed and written to results.json: throughput, requests per
 * 1,000 entries, latency from an entry's id time to the offset passing it, invocations,
 * peak RSS, CPU by process; and the ratios of one mode's figures to another's.
 */
import { entryLatenciesMs, passedAt } from './offset-commits.js';
import type { CpuBreakdown, DrainSample, LambdaSize, ModeRun } from './run-mode.js';
import { perThousand, quantile, ratio, round } from './stats.js';

export interface ModeFigures {
  readonly mode: string;
  readonly label: string;
  readonly env: Readonly<Record<string, string>>;
  readonly entries: number;
  readonly drainSeconds: number;
  readonly entriesPerSecond: number;
  readonly upstashRequests: number;
  readonly upstashRequestsPer1000: number;
  readonly dynamodbRequests: number;
  readonly dynamodbRequestsByOperation: Readonly<Record<string, number>>;
  readonly dynamodbRequestsPer1000: number;
  readonly gameMasterCalls: number;
  /** From the entry's id time (when Redis added it) to the offset commit that passed it. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly invocations: number;
  readonly stoppedBy: Readonly<Record<string, number>>;
  readonly offsetCommits: number;
  /** Peak resident set of the handler process, in MB (MiB). */
  readonly peakRssMb: number;
  readonly cpuSeconds: CpuBreakdown;
  /** Consumer CPU ms per entry: the whole drain, the process's start and JIT warm-up included. */
  readonly consumerCpuMsPerEntry: number;
  /**
   * The drain's second half alone: a handler past its warm-up, as a follower that has run
   * for a while meets a burst. Absent when the offset commits were too few to split on.
   */
  readonly secondHalf?: SecondHalf;
  /** The Lambda size emulated (heap limits and CPU quota), when one was asked for. */
  readonly lambda?: LambdaSize;
  /** Summed over the invocations. */
  readonly summary: {
    readonly applied: number;
    readonly ignored: number;
    readonly invalid: number;
    readonly deadLettered: number;
  };
}

export interface SecondHalf {
  /** Entries done when the half began (the first offset commit at or past the middle). */
  readonly fromEntry: number;
  readonly entriesPerSecond: number;
  readonly consumerCpuMsPerEntry: number;
}

/**
 * From the first offset commit at or past the middle of the backlog to the last one. The
 * child's CPU is read from `/proc` at each commit, in 10 ms clock ticks: over a half that
 * lasts seconds, a rounding error well under 1%.
 */
export const secondHalfOf = (samples: readonly DrainSample[], entries: number): SecondHalf | undefined => {
  const start = samples.find((sample) => sample.entriesDone >= entries / 2);
  const end = samples.at(-1);
  if (start === undefined || end === undefined) return undefined;
  const done = end.entriesDone - start.entriesDone;
  const ms = end.atMs - start.atMs;
  if (done < entries / 4 || ms <= 0 || !Number.isFinite(end.childCpuMs - start.childCpuMs)) return undefined;
  return {
    fromEntry: start.entriesDone,
    entriesPerSecond: round((done * 1_000) / ms),
    consumerCpuMsPerEntry: round((end.childCpuMs - start.childCpuMs) / done, 2),
  };
};

/** Entries done over time since the drain started: `[seconds, entries]`, for the chart. */
export type Timeline = readonly (readonly [number, number])[];

const sumBy = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);

export const modeFigures = (run: ModeRun): ModeFigures => {
  const entries = run.entryIds.length;
  const drainSeconds = run.report.drainMs / 1_000;
  const latencies = entryLatenciesMs(run.entryIds, run.commits);
  const dynamodbRequests = sumBy(Object.values(run.dynamodbRequests));
  const summaries = run.report.invocations.map((invocation) => invocation.summary);
  const stoppedBy: Record<string, number> = {};
  for (const summary of summaries) stoppedBy[summary.stoppedBy] = (stoppedBy[summary.stoppedBy] ?? 0) + 1;
  const seconds = (ms: number): number => round(ms / 1_000, 2);
  const secondHalf = secondHalfOf(run.samples, entries);
  const cpuSeconds: CpuBreakdown = {
    consumer: seconds(run.cpuMs.consumer),
    benchProcess: seconds(run.cpuMs.benchProcess),
    dynamodbLocal: seconds(run.cpuMs.dynamodbLocal),
    redis: seconds(run.cpuMs.redis),
    machine: seconds(run.cpuMs.machine),
  };
  return {
    mode: run.spec.mode,
    label: run.spec.label ?? run.spec.mode,
    env: run.spec.env ?? {},
    entries,
    drainSeconds: round(drainSeconds, 2),
    entriesPerSecond: round(entries / drainSeconds),
    upstashRequests: run.upstashRequests,
    upstashRequestsPer1000: round(perThousand(run.upstashRequests, entries)),
    dynamodbRequests,
    dynamodbRequestsByOperation: run.dynamodbRequests,
    dynamodbRequestsPer1000: round(perThousand(dynamodbRequests, entries)),
    gameMasterCalls: run.gameMasterCalls,
    latencyMs: {
      p50: round(quantile(latencies, 0.5), 0),
      p99: round(quantile(latencies, 0.99), 0),
      max: round(quantile(latencies, 1), 0),
    },
    invocations: summaries.length,
    stoppedBy,
    offsetCommits: run.commits.length,
    peakRssMb: round(run.report.maxRssKb / 1_024),
    cpuSeconds,
    consumerCpuMsPerEntry: round(run.cpuMs.consumer / entries, 2),
    ...(secondHalf === undefined ? {} : { secondHalf }),
    ...(run.lambda === undefined ? {} : { lambda: run.lambda }),
    summary: {
      applied: sumBy(summaries.map((summary) => summary.applied)),
      ignored: sumBy(summaries.map((summary) => summary.ignored)),
      invalid: sumBy(summaries.map((summary) => summary.invalid)),
      deadLettered: sumBy(summaries.map((summary) => summary.deadLettered)),
    },
  };
};

/** Entries done vs. seconds since `go`, one point per offset commit (thinned to `maxPoints`). */
export const timelineOf = (run: ModeRun, maxPoints = 400): Timeline => {
  const times = passedAt(run.entryIds, run.commits);
  const points: [number, number][] = [[0, 0]];
  times.forEach((at, index) => {
    if (at === undefined) return;
    const next = times[index + 1];
    // One point per commit: the last entry it passed.
    if (next !== at) points.push([(at - run.goAtMs) / 1_000, index + 1]);
  });
  const end = run.report.drainMs / 1_000;
  const last = points.at(-1) ?? [0, 0];
  if (last[0] < end) points.push([end, last[1]]);
  if (points.length <= maxPoints) return points;
  const every = Math.ceil(points.length / maxPoints);
  return points.filter((_, index) => index % every === 0 || index === points.length - 1);
};

/** `numerator`'s figures over `denominator`'s: how many times better (or more) it is. */
export interface Ratios {
  readonly entriesPerSecond: number;
  readonly upstashRequestsPer1000: number;
  readonly dynamodbRequestsPer1000: number;
  readonly latencyP50: number;
  readonly latencyP99: number;
  readonly invocations: number;
  readonly peakRss: number;
}

export const ratios = (numerator: ModeFigures, denominator: ModeFigures): Ratios => ({
  entriesPerSecond: round(ratio(numerator.entriesPerSecond, denominator.entriesPerSecond), 2),
  upstashRequestsPer1000: round(ratio(numerator.upstashRequestsPer1000, denominator.upstashRequestsPer1000), 3),
  dynamodbRequestsPer1000: round(ratio(numerator.dynamodbRequestsPer1000, denominator.dynamodbRequestsPer1000), 3),
  latencyP50: round(ratio(numerator.latencyMs.p50, denominator.latencyMs.p50), 3),
  latencyP99: round(ratio(numerator.latencyMs.p99, denominator.latencyMs.p99), 3),
  invocations: round(ratio(numerator.invocations, denominator.invocations), 3),
  peakRss: round(ratio(numerator.peakRssMb, denominator.peakRssMb), 3),
});
