/**
 * One scheduled invocation (spec 6): take the lease, pull batches after the offset and apply
 * them until the stream is drained or the time budget runs out, move the offset, release.
 */
import { compareEntryIds, entryAgeMs, STREAM_START } from '../domain/entry-id.js';
import type { RawEntry } from '../domain/job-result.js';
import { truncateText } from '../domain/job-result.js';
import type { EntryAttempts, GameStore, OffsetState, OffsetStore, ResultStream, StreamPublisher } from '../ports.js';
import type { EntryOutcome } from '../start-flow/outcome.js';
import type { RetryHints } from '../start-flow/start-flow.js';
import { errorText } from '../telemetry/log.js';
import type { Log } from '../telemetry/log.js';
import { EntryResult } from '../telemetry/metric-names.js';
import type { ConsumerTelemetry } from '../telemetry/metrics-recorder.js';
import { processBatch } from './batch-processor.js';
import type { EntryState } from './batch-processor.js';
import { InvocationFailedError } from './fatal-errors.js';
import { advanceOffset } from './offset-progress.js';
import type { ConsumerSettings } from './settings.js';

export const StoppedBy = {
  drained: 'drained',
  timeBudget: 'time_budget',
  transientError: 'transient_error',
  leaseHeld: 'lease_held',
} as const;

export type StoppedBy = (typeof StoppedBy)[keyof typeof StoppedBy];

/** What the handler returns (spec 6.4). Every entry done is in exactly one of the counts. */
export interface InvocationSummary {
  entriesRead: number;
  applied: number;
  ignored: number;
  invalid: number;
  deadLettered: number;
  lastEntryId: string;
  stoppedBy: StoppedBy;
}

export interface InvocationDeps {
  readonly offsets: OffsetStore;
  readonly stream: ResultStream;
  readonly publisher: StreamPublisher;
  readonly games: GameStore;
  readonly process: (entry: RawEntry, hints: RetryHints) => Promise<EntryOutcome>;
  readonly settings: ConsumerSettings;
  readonly log: Log;
  readonly telemetry: ConsumerTelemetry;
  /** Identifies this invocation as the lease owner (the Lambda request id). */
  readonly invocationId: string;
  readonly nowMs: () => number;
  readonly remainingMs: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Lag is counted up to this many entries; beyond it the figure says "at least". */
const LAG_COUNT_CAP = 100_000;

const summaryKey = {
  [EntryResult.applied]: 'applied',
  [EntryResult.ignored]: 'ignored',
  [EntryResult.invalid]: 'invalid',
  [EntryResult.deadLettered]: 'deadLettered',
} as const;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const runInvocation = async (deps: InvocationDeps): Promise<InvocationSummary> => {
  const { log, settings } = deps;
  const now = deps.nowMs();
  // The lease lasts exactly as long as this invocation may live, so a killed invocation's
  // lease frees itself when its time would have run out anyway.
  const lease = await deps.offsets.acquireLease(deps.invocationId, now + deps.remainingMs(), now);
  if (!lease.acquired) {
    log.info('offset lease held by another invocation; nothing to do', {
      lease_owner: lease.heldBy.owner,
      lease_expires_at: new Date(lease.heldBy.expiresAtMs).toISOString(),
    });
    return {
      entriesRead: 0,
      applied: 0,
      ignored: 0,
      invalid: 0,
      deadLettered: 0,
      lastEntryId: lease.state.lastEntryId,
      stoppedBy: StoppedBy.leaseHeld,
    };
  }

  let state: OffsetState = lease.state;
  const summary: InvocationSummary = {
    entriesRead: 0,
    applied: 0,
    ignored: 0,
    invalid: 0,
    deadLettered: 0,
    lastEntryId: state.lastEntryId,
    stoppedBy: StoppedBy.drained,
  };
  log.debug('offset lease taken', { start_entry_id: state.lastEntryId });

  try {
    let next: Promise<Read> | undefined;
    for (;;) {
      if (deps.remainingMs() < settings.timeBudgetMarginMs) {
        summary.stoppedBy = StoppedBy.timeBudget;
        break;
      }
      const batch = unwrap(await (next ?? read(deps, state.lastEntryId)));
      next = undefined;
      if (batch.length === 0) {
        summary.stoppedBy = StoppedBy.drained;
        break;
      }
      summary.entriesRead += batch.length;
      // A short batch means the stream had no more: skip the read that would say so.
      const full = batch.length === settings.batchSize;
      // Fetch the next batch while this one is processed. It starts after this batch, which
      // is where the offset will be if every entry gets done; otherwise the loop stops anyway.
      if (full && settings.prefetch) next = read(deps, (batch.at(-1) as RawEntry).id);

      const applied = await applyBatch(deps, state, batch);
      state = applied.state;
      summary.lastEntryId = state.lastEntryId;
      countResults(deps, summary, applied.states, applied.isDone);

      if (applied.halted === 'fatal') throw new InvocationFailedError('processing stopped', applied.fatalError);
      if (applied.unfinished) {
        summary.stoppedBy = StoppedBy.transientError;
        break;
      }
      if (applied.halted === 'time_budget') {
        summary.stoppedBy = StoppedBy.timeBudget;
        break;
      }
      if (!full) {
        summary.stoppedBy = StoppedBy.drained;
        break;
      }
    }
  } catch (error) {
    log.error('invocation failed; offset left at last committed entry', {
      last_entry_id: state.lastEntryId,
      err: errorText(error),
    });
    await releaseLease(deps);
    throw error;
  }
  if (summary.stoppedBy === StoppedBy.drained && summary.entriesRead === 0) await checkOffsetInStream(deps, state.lastEntryId);
  await releaseLease(deps, summary);
  await recordLag(deps, summary, state.lastEntryId);

  log.info('runtime job results invocation finished', { ...summary });
  return summary;
};

const releaseLease = async (deps: InvocationDeps, summary?: InvocationSummary): Promise<void> => {
  await deps.offsets.releaseLease(deps.invocationId, summary ? { ...summary } : undefined).catch((error: unknown) => {
    deps.log.warn('could not release offset lease; it expires at the invocation deadline', { err: errorText(error) });
  });
};

/** A read's result or its error: a prefetch may be abandoned, and must not reject unseen. */
type Read = { readonly entries: RawEntry[] } | { readonly error: InvocationFailedError };

const read = (deps: InvocationDeps, afterId: string): Promise<Read> =>
  deps.stream.readAfter(afterId, deps.settings.batchSize).then(
    (entries) => ({ entries }),
    (error: unknown) => ({ error: new InvocationFailedError('reading the results stream failed', error) }),
  );

const unwrap = (result: Read): RawEntry[] => {
  if ('error' in result) throw result.error;
  return result.entries;
};

/**
 * Processes a batch, publishes what it produced, and commits the offset past the entries
 * now done (and the attempts of those that failed).
 */
const applyBatch = async (deps: InvocationDeps, state: OffsetState, batch: readonly RawEntry[]) => {
  const result = await processBatch({ ...deps, sleep: deps.sleep ?? defaultSleep }, batch, state.attempts);
  const unpublished = await publishOutcomes(deps, batch, result.states, state.attempts);
  const failed = new Map<string, EntryAttempts>();
  result.states.forEach((entryState, index) => {
    const attempts = entryState.kind === 'failed' ? entryState.attempts : unpublished.get(index);
    if (attempts !== undefined) failed.set((batch[index] as RawEntry).id, attempts);
  });
  const isDone = (index: number): boolean => result.states[index]?.kind === 'done' && !unpublished.has(index);
  const next = advanceOffset(state, batch, isDone, failed);
  // Nothing moved and no new attempt to remember (e.g. a fatal error on the first entry).
  if (next.lastEntryId !== state.lastEntryId || JSON.stringify(next.attempts) !== JSON.stringify(state.attempts)) {
    await deps.offsets.commit(deps.invocationId, next);
  }
  return {
    state: next,
    states: result.states,
    isDone,
    halted: result.halted,
    fatalError: result.fatalError,
    /** Some entry failed transiently, or its messages could not be published. */
    unfinished: failed.size > 0,
  };
};

/**
 * Publishes the batch's intents and dead letters in one request, then clears the markers
 * they came from. If the batch request fails, each entry's messages go out on their own, so
 * a message that can never be published holds back only its entry; that entry counts an
 * attempt, and after `MAX_ATTEMPTS` its messages are written to the error log instead and
 * the entry is let go (an intent also stays in its game's outbox for `ops replay`). When
 * nothing can be published at all, no attempt is counted: that is an outage to wait out.
 * Returns the entries whose messages are not out yet, with their attempts.
 */
const publishOutcomes = async (
  deps: InvocationDeps,
  batch: readonly RawEntry[],
  states: readonly EntryState[],
  priorAttempts: OffsetState['attempts'],
): Promise<Map<number, EntryAttempts>> => {
  const unpublished = new Map<number, EntryAttempts>();
  // Given up: their markers stay in the game item, the copy operators can replay from.
  const abandoned = new Set<number>();
  const done = states.flatMap((state, index) => (state.kind === 'done' ? [{ index, outcome: state.outcome }] : []));
  const pending = done.filter(({ outcome }) => outcome.messages.length > 0);
  if (pending.length > 0) await publishAll(deps, batch, pending, priorAttempts, unpublished, abandoned);
  const cleared = done.filter(({ index }) => !unpublished.has(index) && !abandoned.has(index));
  for (const { gameId, marker, sourceEntryId } of cleared.flatMap(({ outcome }) => outcome.markersToClear)) {
    // A leftover marker only matters if this very entry is replayed; then its message is
    // re-sent under the same key, which the receiving service deduplicates.
    await deps.games.clearMarker(gameId, marker, sourceEntryId).catch((error: unknown) => {
      deps.log.warn('could not clear a published entry marker from the game', {
        game_id: gameId,
        stream_entry_id: sourceEntryId,
        marker,
        err: errorText(error),
      });
    });
  }
  return unpublished;
};

/** The batch in one request; if that fails, entry by entry, recording who is left. */
const publishAll = async (
  deps: InvocationDeps,
  batch: readonly RawEntry[],
  pending: readonly { index: number; outcome: EntryOutcome }[],
  priorAttempts: OffsetState['attempts'],
  unpublished: Map<number, EntryAttempts>,
  abandoned: Set<number>,
): Promise<void> => {
  try {
    await deps.publisher.publish(pending.flatMap(({ outcome }) => outcome.messages));
    return;
  } catch (error) {
    deps.telemetry.transientError();
    deps.log.warn('publishing the batch failed; publishing entry by entry', {
      messages: pending.length,
      first_entry_id: batch[0]?.id,
      err: errorText(error),
    });
  }
  const failures: { index: number; outcome: EntryOutcome; lastError: string }[] = [];
  for (const { index, outcome } of pending) {
    await deps.publisher.publish(outcome.messages).catch((error: unknown) => {
      failures.push({ index, outcome, lastError: errorText(error, 512) });
    });
  }
  // Nothing at all goes out: Upstash refuses writes (an outage, a full database), not one
  // bad message. Wait it out without counting attempts, so no entry is given up for it.
  const outage = failures.length === pending.length;
  for (const { index, outcome, lastError } of failures) {
    const entryId = (batch[index] as RawEntry).id;
    const prior = priorAttempts[entryId]?.attempts ?? 0;
    const attempts = outage ? prior : prior + 1;
    if (attempts < deps.settings.maxAttempts) {
      unpublished.set(index, { attempts, lastError });
      continue;
    }
    abandoned.add(index);
    deps.telemetry.publishAbandoned();
    deps.log.error('giving up publishing the messages of a runtime job result; their content follows', {
      stream_entry_id: entryId,
      attempts,
      err: lastError,
      messages: outcome.messages.map((message) => ({
        stream: message.stream,
        fields: message.fields.map(([field, value]) => [field, truncateText(value)]),
      })),
    });
  }
};

const countResults = (
  deps: InvocationDeps,
  summary: InvocationSummary,
  states: readonly EntryState[],
  isDone: (index: number) => boolean,
): void => {
  states.forEach((state, index) => {
    if (state.kind !== 'done' || !isDone(index)) return;
    const result = state.outcome.result;
    summary[summaryKey[result]] += 1;
    deps.telemetry.entry(result);
    const deadLetters = state.outcome.messages.filter(
      (message) => message.stream === deps.settings.deadLetterStream,
    ).length;
    for (let i = 0; i < deadLetters; i += 1) deps.telemetry.deadLetter();
  });
};

/**
 * An idle stream and an offset beyond its last id means the stream was recreated (or the
 * offset was set by hand): new entries, numbered from the start again, would be skipped.
 * Moving the offset back is an operator's call (`npm run ops -- offset set`), so this only
 * warns and counts, on every invocation until fixed.
 */
const checkOffsetInStream = async (deps: InvocationDeps, lastEntryId: string): Promise<void> => {
  if (lastEntryId === STREAM_START) return;
  try {
    const last = await deps.stream.lastGeneratedId();
    if (last !== undefined && compareEntryIds(lastEntryId, last) <= 0) return;
    deps.telemetry.offsetAhead();
    deps.log.warn('offset is past the end of the results stream; was the stream recreated?', {
      last_entry_id: lastEntryId,
      stream_last_id: last ?? null,
    });
  } catch (error) {
    deps.log.warn('could not check the offset against the stream', { err: errorText(error) });
  }
};

/** Consumer lag at the end of the invocation: age of the oldest entry not done, and count. */
const recordLag = async (deps: InvocationDeps, summary: InvocationSummary, lastEntryId: string): Promise<void> => {
  if (summary.stoppedBy === StoppedBy.drained) {
    deps.telemetry.lag(0, 0);
    return;
  }
  try {
    const backlog = await deps.stream.backlogAfter(lastEntryId, LAG_COUNT_CAP);
    const ageMs = backlog.oldestId === undefined ? 0 : entryAgeMs(backlog.oldestId, deps.nowMs());
    deps.telemetry.lag(ageMs, backlog.count);
  } catch (error) {
    deps.log.warn('could not measure consumer lag', { err: errorText(error) });
  }
};
