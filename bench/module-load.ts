/**
 * Module-load time of the bundled handler: each sample is a fresh `node` process that
 * imports the bundle, as a Lambda cold start does before the first invocation. The handler
 * builds its clients lazily, so importing it must stay cheap.
 */
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { median } from './stats.js';

export interface ModuleLoad {
  /** Median time of the `import()` itself, measured inside each process. */
  readonly medianMs: number;
  /** Median wall time of the whole process, Node's own start included. */
  readonly medianProcessMs: number;
  readonly samplesMs: readonly number[];
  /** Loaded with `--enable-source-maps`, as the function's NODE_OPTIONS set it in Lambda. */
  readonly sourceMaps: boolean;
}

/** Imports the bundle `samples` times, one process at a time (parallel runs would compete for the CPU). */
export const measureModuleLoad = (
  bundlePath: string,
  samples = 10,
  options: { readonly sourceMaps?: boolean; readonly execPath?: string } = {},
): ModuleLoad => {
  const { sourceMaps = true, execPath = process.execPath } = options;
  const script = [
    'const started = performance.now();',
    `await import(${JSON.stringify(pathToFileURL(bundlePath).href)});`,
    'process.stdout.write(String(performance.now() - started));',
  ].join('\n');
  const importMs: number[] = [];
  const processMs: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    const started = performance.now();
    const result = spawnSync(
      execPath,
      [...(sourceMaps ? ['--enable-source-maps'] : []), '--input-type=module', '-e', script],
      { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1' } },
    );
    processMs.push(performance.now() - started);
    const measured = Number(result.stdout);
    if (result.status !== 0 || !Number.isFinite(measured)) {
      throw new Error(`importing ${bundlePath} failed (exit ${String(result.status)}): ${result.stderr}`);
    }
    importMs.push(measured);
  }
  return { medianMs: median(importMs), medianProcessMs: median(processMs), samplesMs: importMs, sourceMaps };
};
