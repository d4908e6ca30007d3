/**
 * The parent's side of the drain child: bundles bench/drain-child.ts like the Lambda
 * handler, forks it as Lambda starts a function of a given size (the bootstrap's heap limits),
 * lets it start once the backlog is in place, and collects its report.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';
import { DEFAULTS } from '../lib/config.js';
import { bundleEntry } from './bundle.js';
import type { CpuQuota } from './cpu-quota.js';
import type { ChildMessage, DrainJob, GoMessage, InvocationRecord } from './drain-protocol.js';

const DRAIN_CHILD_ENTRY = fileURLToPath(new URL('./drain-child.ts', import.meta.url));

/**
 * The V8 heap limits Lambda's Node.js bootstrap starts a function of `memoryMb` with: a tenth
 * of the memory for the new space (half of it per semi-space), the rest for the old space.
 */
const bootstrapHeapLimits = (memoryMb: number): { readonly semiSpaceMb: number; readonly oldSpaceMb: number } => {
  const newSpaceMb = Math.floor(memoryMb / 10);
  return { semiSpaceMb: Math.floor(newSpaceMb / 2), oldSpaceMb: memoryMb - newSpaceMb };
};

/** One line for the reports: the heap limits the child has at `memoryMb`. */
export const describeHeapLimits = (memoryMb: number): string => {
  const { semiSpaceMb, oldSpaceMb } = bootstrapHeapLimits(memoryMb);
  return `heap limits of ${memoryMb} MB as Lambda's bootstrap sets them: semi-space ${semiSpaceMb} MB, old space ${oldSpaceMb} MB`;
};

/**
 * Bundles the drain child into `outDir`; returns the bundle's path. With `handlerDir`, the
 * child runs the handler of that tree (another commit's, with its own dependencies) instead
 * of this one's: its `create-handler` import resolves there.
 */
export const bundleDrainChild = async (outDir: string, handlerDir?: string): Promise<string> => {
  if (handlerDir === undefined) return (await bundleEntry(DRAIN_CHILD_ENTRY, outDir, 'drain-child')).path;
  const handlerFrom: Plugin = {
    name: 'handler-from',
    setup: (build) => {
      build.onResolve({ filter: /\/create-handler\.js$/ }, (args) =>
        args.importer === DRAIN_CHILD_ENTRY
          ? { path: join(handlerDir, 'functions/runtime-job-results/create-handler.ts') }
          : undefined,
      );
    },
  };
  return (await bundleEntry(DRAIN_CHILD_ENTRY, outDir, 'drain-child-baseline', [handlerFrom])).path;
};

export type DrainReport = Extract<ChildMessage, { type: 'done' }>;

export interface DrainChild {
  readonly pid: number | undefined;
  /** Resolves once the child has loaded the handler's code and waits for `go` (or has failed). */
  readonly ready: Promise<void>;
  /** Starts the invocations. */
  go(): void;
  /** The child's report once it found the stream drained; rejects if it failed. */
  readonly report: Promise<DrainReport>;
  /** Kills the child if it still runs (a run that failed half way must not leave it waiting). */
  stop(): void;
}

const STDERR_TAIL_CHARS = 4_000;

export interface DrainChildOptions {
  readonly onInvocation?: (record: InvocationRecord) => void;
  /** The Node.js binary (bench/handler-node.ts); the bench's own by default. */
  readonly execPath?: string;
  /** The function's memory size, for Lambda's heap limits; the deployed default otherwise. */
  readonly memoryMb?: number;
  /** Lambda's CPU share: the child joins this cgroup as soon as it exists. */
  readonly cpuQuota?: CpuQuota;
  /**
   * Variables of the child's own process, beside the handler's (`job.env`): what Lambda sets
   * around the handler, as the X-Ray SDK reads it (the daemon's address, the trace header).
   */
  readonly processEnv?: Readonly<Record<string, string>>;
}

/**
 * Forks the bundled drain child as Lambda starts the function: the bootstrap's heap limits
 * for the memory size (without them V8 would size its heap for the whole machine and
 * collect lazily, overstating the peak RSS), and `--enable-source-maps` (the function's
 * NODE_OPTIONS), in the CPU quota of that size when one is given. Its stdout (the handler's
 * JSON logs and EMF lines, at the deployed log level) is discarded.
 */
export const startDrainChild = (bundlePath: string, job: DrainJob, options: DrainChildOptions = {}): DrainChild => {
  const onInvocation = options.onInvocation ?? (() => undefined);
  const memoryMb = options.memoryMb ?? DEFAULTS.memorySizeMb;
  const node = options.execPath ?? process.execPath;
  const { semiSpaceMb, oldSpaceMb } = bootstrapHeapLimits(memoryMb);
  const child = fork(bundlePath, [JSON.stringify(job)], {
    execPath: node,
    execArgv: [`--max-semi-space-size=${semiSpaceMb}`, `--max-old-space-size=${oldSpaceMb}`, '--enable-source-maps'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    // Nothing of the benchmark's (or vitest's) environment: the handler reads `job.env`.
    env: {
      PATH: process.env.PATH ?? '',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...options.processEnv,
    },
  });
  // Before it loads the handler's code: module load and cold start run at the quota too.
  if (options.cpuQuota !== undefined && child.pid !== undefined) options.cpuQuota.add(child.pid);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
  });
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const report = new Promise<DrainReport>((resolve, reject) => {
    let failure: string | undefined;
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') markReady();
      else if (message.type === 'invocation') onInvocation(message.record);
      else if (message.type === 'done') resolve(message);
      else failure = message.message;
    });
    child.on('exit', (code, signal) => {
      reject(
        new Error(
          `drain child ended (${signal ?? `exit ${String(code)}`}) without a report: ${failure ?? stderr.trim()}`,
        ),
      );
    });
  });
  // A child that dies before `ready` must not leave the caller waiting on it.
  const readyOrFailed = Promise.race([ready, report.then(() => undefined)]);
  return {
    pid: child.pid,
    ready: readyOrFailed,
    go: () => {
      const message: GoMessage = { type: 'go' };
      child.send(message);
    },
    report,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
};
