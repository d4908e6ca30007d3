/**
 * Processes one batch: per-game lanes in parallel, in-invocation retries with backoff,
 * retries counted across invocations, and the entries that run out of tries given up
 * (docs/contract.md §5.9).
 */
import { withJitter } from '../backoff.js';
import { fieldMap } from '../domain/job-result.js';
import type { RawEntry } from '../domain/job-result.js';
import type { EntryAttempts, OffsetState } from '../ports.js';
import type { EntryOutcome } from '../start-flow/outcome.js';
import type { RetryHints } from '../start-flow/start-flow.js';
import type { Log } from '../telemetry/log.js';
import type { ConsumerTelemetry } from '../telemetry/metrics-recorder.js';
import { countAttempt, isExhausted } from './entry-state.js';
import type { EntryState } from './entry-state.js';
import { isFatal } from './fatal-errors.js';
import { forEachConcurrently, lanesOf } from './lanes.js';
import { isRecordedFinished, mustRunInOrder } from './offset-progress.js';
import type { ConsumerSettings } from './settings.js';

export interface BatchResult {
  /** Same order as the batch; no entry is `done` yet (its messages are not published). */
  readonly states: readonly EntryState[];
  /** Why new work stopped being started, if it did. */
  readonly halted: 'time_budget' | 'fatal' | undefined;
  readonly fatalError: unknown;
}

export interface BatchProcessorDeps {
  readonly process: (entry: RawEntry, hints: RetryHints) => Promise<EntryOutcome>;
  /** Ends an entry that ran out of tries (`StartFlow.giveUp`); throws when that cannot finish yet. */
  readonly giveUp: (entry: RawEntry, attempts: EntryAttempts) => Promise<EntryOutcome>;
  readonly settings: ConsumerSettings;
  readonly log: Log;
  readonly telemetry: ConsumerTelemetry;
  readonly remainingMs: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /**
   * Retry a failed entry here, after its backoff (a drain), or leave it failed after one try
   * for the caller to retry later while other entries go on (follow mode's entry window).
   */
  readonly retryInPlace: boolean;
}

export const processBatch = async (
  deps: BatchProcessorDeps,
  batch: readonly RawEntry[],
  offset: OffsetState,
): Promise<BatchResult> => {
  const { settings } = deps;
  const states = new Map<string, EntryState>();
  let halted: BatchResult['halted'];
  let fatalError: unknown;

  const outOfTime = (): boolean => deps.remainingMs() < settings.timeBudgetMarginMs;

  /** One try: the start flow, or, once the entry is being given up, the give-up. */
  const tryOnce = (entry: RawEntry, attempts: EntryAttempts | undefined): Promise<EntryOutcome> =>
    attempts?.givingUp === true
      ? deps.giveUp(entry, attempts)
      : deps.process(entry, { pendingStopJob: attempts?.pendingStopJob === true });

  const runEntry = async (entry: RawEntry): Promise<EntryState> => {
    let attempts = offset.attempts[entry.id];
    for (let tries = 1; ; tries += 1) {
      try {
        const outcome = await tryOnce(entry, attempts);
        return { kind: 'decided', outcome, ...(attempts === undefined ? {} : { attempts }) };
      } catch (error) {
        if (isFatal(error)) {
          halted = 'fatal';
          fatalError ??= error;
          return { kind: 'not_started' };
        }
        attempts = countAttempt(attempts, error);
        deps.telemetry.transientError();
        const attrs = {
          stream_entry_id: entry.id,
          game_id: fieldMap(entry).get('game_id') ?? null,
          attempt: attempts.attempts,
          max_attempts: settings.maxAttempts,
          err: attempts.lastError,
        };
        if (isExhausted(attempts, settings.maxAttempts)) {
          // Given up at once, without a backoff: a dead letter, and for a success the orphan path.
          deps.log.error('runtime job result ran out of tries; giving it up', attrs);
          attempts = { ...attempts, givingUp: true };
          continue;
        }
        deps.log.warn('transient error processing runtime job result; will retry', attrs);
        const backoffMs = withJitter(settings.retryBackoffMs * 2 ** (tries - 1));
        // A backoff that would reach into the margin leaves the retry to the next invocation.
        const fitsInTime = deps.remainingMs() - backoffMs >= settings.timeBudgetMarginMs;
        if (!deps.retryInPlace || tries >= settings.attemptsPerInvocation || !fitsInTime || halted !== undefined) {
          return { kind: 'failed', attempts };
        }
        await deps.sleep(backoffMs);
      }
    }
  };

  // Near the cap of the finished-entries record, the batch runs as one lane in stream order:
  // nothing done after an entry that is not, so the record cannot grow.
  const lanes = mustRunInOrder(offset, batch.length) ? [[...batch]] : lanesOf(batch);
  for (const entry of batch) {
    if (isRecordedFinished(offset, entry.id)) states.set(entry.id, { kind: 'finished_earlier' });
  }
  await forEachConcurrently(lanes, settings.maxConcurrency, async (lane) => {
    for (const entry of lane) {
      if (states.has(entry.id)) continue;
      if (halted === undefined && outOfTime()) halted = 'time_budget';
      if (halted !== undefined) return;
      const state = await runEntry(entry);
      states.set(entry.id, state);
      // Later entries of this game wait behind one that is not done.
      if (state.kind !== 'decided') return;
    }
  });

  return {
    states: batch.map((entry) => states.get(entry.id) ?? { kind: 'not_started' }),
    halted,
    fatalError,
  };
};
