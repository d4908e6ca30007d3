/** The benchmark's files: results.json and the throughput chart beside it. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchRun } from './bench.js';
import { throughputSvg } from './throughput-chart.js';

export const RESULTS_FILE = 'results.json';
export const CHART_FILE = 'throughput.svg';

/** How the report and the chart name the modes. */
export const MODE_LABELS: Readonly<Record<string, string>> = { seed: 'seed-compatible', batched: 'default (batched)' };

/** Writes `value` as `outDir/name` (pretty JSON); returns its path. */
export const writeJson = (outDir: string, name: string, value: unknown): string => {
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, name);
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
  return path;
};

/** Writes both files into `outDir`; returns their paths. */
export const writeOutputs = (outDir: string, run: BenchRun): { results: string; chart: string } => {
  const { results, timelines } = run;
  mkdirSync(outDir, { recursive: true });
  const resultsPath = join(outDir, RESULTS_FILE);
  const chartPath = join(outDir, CHART_FILE);
  writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
  const title = `Start flow: ${results.backlog.entries.toLocaleString('en-US')} entries, Game Master ${results.options.gmDelayMs} ms`;
  const series = Object.entries(timelines).map(([mode, timeline]) => ({
    label: `${MODE_LABELS[mode] ?? mode}: ${results.modes[mode]?.entriesPerSecond ?? '?'} entries/s`,
    timeline,
  }));
  writeFileSync(chartPath, throughputSvg(title, series));
  return { results: resultsPath, chart: chartPath };
};
