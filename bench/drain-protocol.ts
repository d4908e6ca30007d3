/**
 * The messages between the benchmark and its drain child (bench/drain-child.ts), over the
 * IPC channel of `fork`. Types only: both sides import them.
 */
import type { InvocationSummary } from '../functions/runtime-job-results/consumer/run-invocation.js';

/** What the child is asked to do; passed as JSON in its first argument. */
export interface DrainJob {
  /** The handler's environment (`createHandler(env)`). */
  readonly env: Record<string, string>;
  /** The pretend Lambda timeout of each invocation. */
  readonly timeoutMs: number;
  /** A safety stop: a consumer that never drains fails the run instead of looping forever. */
  readonly maxInvocations: number;
  /**
   * `drained` (default): stop after the first invocation that finds the stream drained.
   * `stopped`: keep invoking back to back until the parent ends the process — a follower
   * waiting for a burst that has not been written yet.
   */
  readonly until?: 'drained' | 'stopped';
}

export interface InvocationRecord {
  readonly summary: InvocationSummary;
  readonly durationMs: number;
}

/** Child → parent. */
export type ChildMessage =
  /** The handler's code is loaded: the child waits for `go`. */
  | { readonly type: 'ready' }
  | { readonly type: 'invocation'; readonly record: InvocationRecord }
  | {
      readonly type: 'done';
      readonly invocations: readonly InvocationRecord[];
      /** From `go` to the end of the invocation that found the stream drained. */
      readonly drainMs: number;
      /** `process.resourceUsage().maxRSS`, in KiB: the child's peak resident set. */
      readonly maxRssKb: number;
      /** CPU time of the child while draining, in ms. */
      readonly cpuMs: { readonly user: number; readonly system: number };
    }
  | { readonly type: 'error'; readonly message: string };

/** Parent → child: the backlog is in place, start invoking. */
export interface GoMessage {
  readonly type: 'go';
}
