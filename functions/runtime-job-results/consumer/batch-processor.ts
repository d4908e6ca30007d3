/**
 * Processes one batch: per-game lanes in parallel, in-invocation retries with backoff,
 * retries counted across invocations, dead letters once they run out (docs/contract.md §5.9).
 */
import { fieldMap } from '../domain/job-result.js';
import type { RawEntry } from '../domain/job-result.js';
import type { EntryAttempts } from '../ports.js';
import { deadLetterMessage } from '../start-flow/messages.js';
import { outcome } from '../start-flow/outcome.js';
import type { EntryOutcome } from '../start-flow/outcome.js';
import { DeadLetterReason, StopJobNotPublishedError } from '../start-flow/start-flow.js';
import type { RetryHints } from '../start-flow/start-flow.js';
import { errorText } from '../telemetry/log.js';
import type { Log } from '../telemetry/log.js';
import { EntryResult } from '../telemetry/metric-names.js';
import type { ConsumerTelemetry } from '../telemetry/metrics-recorder.js';
import { isFatal } from './fatal-errors.js';
import { forEachConcurrently, lanesOf } from './lanes.js';
import type { ConsumerSettings } from './settings.js';

/** Where one entry of the batch ended up. */
export type EntryState =
  | { readonly kind: 'done'; readonly outcome: EntryOutcome }
  /** Failed transiently and has tries left: the offset must not pass it. */
  | { readonly kind: 'failed'; readonly attempts: EntryAttempts }
  /** Not tried: behind a failed entry of its game, or out of time, or halted by a fatal error. */
  | { readonly kind: 'not_started' };

export interface BatchResult {
  /** Same order as the batch. */
  readonly states: readonly EntryState[];
  /** Why new work stopped being started, if it did. */
  readonly halted: 'time_budget' | 'fatal' | undefined;
  readonly fatalError: unknown;
}

export interface BatchProcessorDeps {
  readonly process: (entry: RawEntry, hints: RetryHints) => Promise<EntryOutcome>;
  readonly settings: ConsumerSettings;
  readonly log: Log;
  readonly telemetry: ConsumerTelemetry;
  readonly nowMs: () => number;
  readonly remainingMs: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** Longest error kept with an entry's attempts (in the offset item, and in its dead letter). */
const MAX_ERROR_BYTES = 512;

export const processBatch = async (
  deps: BatchProcessorDeps,
  batch: readonly RawEntry[],
  priorAttempts: Readonly<Record<string, EntryAttempts>>,
): Promise<BatchResult> => {
  const { settings } = deps;
  const states = new Map<string, EntryState>();
  let halted: BatchResult['halted'];
  let fatalError: unknown;

  const outOfTime = (): boolean => deps.remainingMs() < settings.timeBudgetMarginMs;

  const runEntry = async (entry: RawEntry): Promise<EntryState> => {
    const prior = priorAttempts[entry.id]?.attempts ?? 0;
    let pendingStopJob = priorAttempts[entry.id]?.pendingStopJob === true;
    for (let tries = 1; ; tries += 1) {
      try {
        return { kind: 'done', outcome: await deps.process(entry, { pendingStopJob }) };
      } catch (error) {
        pendingStopJob ||= error instanceof StopJobNotPublishedError;
        if (isFatal(error)) {
          halted = 'fatal';
          fatalError ??= error;
          return { kind: 'not_started' };
        }
        const attempts = prior + tries;
        const lastError = errorText(error, MAX_ERROR_BYTES);
        deps.telemetry.transientError();
        const attrs = {
          stream_entry_id: entry.id,
          game_id: fieldMap(entry).get('game_id') ?? null,
          attempt: attempts,
          max_attempts: settings.maxAttempts,
          err: lastError,
        };
        // An owed stop job is never given up: a dead letter would leave the container running
        // with nobody to stop it. The entry waits (and the lag alarm fires) until it goes out.
        const owesStopJob = error instanceof StopJobNotPublishedError;
        if (attempts >= settings.maxAttempts && !owesStopJob) {
          deps.log.error('runtime job result dead-lettered after exhausting retries', attrs);
          const reason = DeadLetterReason.retriesExhausted(lastError);
          const message = deadLetterMessage(settings.deadLetterStream, entry, reason, attempts, deps.nowMs());
          return { kind: 'done', outcome: outcome(EntryResult.deadLettered, [message]) };
        }
        deps.log.warn('transient error processing runtime job result; will retry', attrs);
        if (tries >= settings.attemptsPerInvocation || outOfTime() || halted !== undefined) {
          return { kind: 'failed', attempts: { attempts, lastError, ...(pendingStopJob ? { pendingStopJob } : {}) } };
        }
        await deps.sleep(settings.retryBackoffMs * 2 ** (tries - 1));
      }
    }
  };

  await forEachConcurrently(lanesOf(batch), settings.maxConcurrency, async (lane) => {
    for (const entry of lane) {
      if (halted === undefined && outOfTime()) halted = 'time_budget';
      if (halted !== undefined) return;
      const state = await runEntry(entry);
      states.set(entry.id, state);
      // Later entries of this game wait behind one that is not done.
      if (state.kind !== 'done') return;
    }
  });

  return {
    states: batch.map((entry) => states.get(entry.id) ?? { kind: 'not_started' }),
    halted,
    fatalError,
  };
};
