/**
 * The Node.js that runs the handler in a benchmark: the bench's own by default, or the
 * binary `--node` names. Lambda runs the function on its runtime's Node.js
 * (`FUNCTION_RUNTIME`), and the major matters to the figures: the same bundle takes less
 * CPU per entry on Node 24 than on Node 20 (docs/performance.md, "The function runtime's
 * Node.js"). Every report says which Node.js ran the handler and flags one that is not the
 * runtime's.
 */
import { spawnSync } from 'node:child_process';
import { FUNCTION_RUNTIME } from '../lib/constructs/consumer-function.js';

export interface HandlerNode {
  readonly path: string;
  /** As `node --version` prints it: `v24.22.3`. */
  readonly version: string;
  readonly major: number;
  /** The function's runtime, `nodejs24.x`. */
  readonly runtime: string;
  readonly runtimeMajor: number;
}

/** The Node.js major of the function's runtime (`nodejs24.x` → 24). */
export const runtimeMajor = (): number => {
  const major = /^nodejs(\d+)/.exec(FUNCTION_RUNTIME.name)?.[1];
  if (major === undefined) throw new Error(`cannot read a Node.js version from runtime ${FUNCTION_RUNTIME.name}`);
  return Number(major);
};

/** Runs `path --version`; fails with a message naming the path when it is not a Node.js binary. */
export const handlerNode = (path: string = process.execPath): HandlerNode => {
  const result = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (result.error !== undefined || result.status !== 0) {
    const why = result.error?.message ?? (result.stderr.trim() || `exit ${String(result.status)}`);
    throw new Error(`${path}: cannot run it as Node.js (${why})`);
  }
  const version = result.stdout.trim();
  const major = /^v(\d+)\./.exec(version)?.[1];
  if (major === undefined) throw new Error(`${path}: printed "${version}", not a Node.js version`);
  return { path, version, major: Number(major), runtime: FUNCTION_RUNTIME.name, runtimeMajor: runtimeMajor() };
};

/** One report line: which Node.js ran the handler, and whether that is the deployed one. */
export const describeHandlerNode = (node: HandlerNode): string =>
  node.major === node.runtimeMajor
    ? `handler's Node.js: ${node.version}, the function runtime's major (${node.runtime})`
    : `handler's Node.js: ${node.version}, NOT the function runtime's major (${node.runtime}): ` +
      `pass --node <a Node.js ${node.runtimeMajor} binary> for the deployed figures`;
