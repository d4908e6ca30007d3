/**
 * One scheduled invocation (docs/contract.md §6): take the lease, pull batches after the
 * offset and apply them until the stream is drained (or, in follow mode, until the time budget
 * runs out, reading again as results arrive), move the offset, release.
 */
import type { RawEntry } from '../domain/job-result.js';
import type {
  EntryAttempts,
  GameStore,
  OffsetState,
  OffsetStore,
  ResultStream,
  StreamPage,
  StreamPublisher,
} from '../ports.js';
import { EntryResult } from '../start-flow/outcome.js';
import type { EntryOutcome } from '../start-flow/outcome.js';
import type { RetryHints } from '../start-flow/start-flow.js';
import { errorText } from '../telemetry/log.js';
import type { Log } from '../telemetry/log.js';
import type { ConsumerTelemetry } from '../telemetry/metrics-recorder.js';
import { processBatch } from './batch-processor.js';
import type { EntryState } from './entry-state.js';
import { InvocationFailedError } from './fatal-errors.js';
import { FollowPacer } from './follow.js';
import { takeLease } from './lease-wait.js';
import { advanceOffset } from './offset-progress.js';
import { publishOutcomes } from './publish-outcomes.js';
import { checkNothingTrimmed, checkOffsetInStream, recordLag } from './stream-position.js';
import type { ConsumerSettings } from './settings.js';

export const StoppedBy = {
  drained: 'drained',
  timeBudget: 'time_budget',
  transientError: 'transient_error',
  leaseHeld: 'lease_held',
} as const;

export type StoppedBy = (typeof StoppedBy)[keyof typeof StoppedBy];

/** What the handler returns (docs/contract.md §6.4). Every entry done is in exactly one of the counts. */
export interface InvocationSummary {
  entriesRead: number;
  applied: number;
  ignored: number;
  invalid: number;
  deadLettered: number;
  lastEntryId: string;
  stoppedBy: StoppedBy;
  /** Follow mode only: ms from catching up with the stream to stopping. */
  followedMs?: number;
  /** Follow mode only: reads that found nothing. */
  emptyPolls?: number;
  /** Follow mode only: ms spent waiting for the previous invocation's lease. */
  handoverWaitMs?: number;
}

type FollowSummary = Pick<InvocationSummary, 'followedMs' | 'emptyPolls' | 'handoverWaitMs'>;

export interface InvocationDeps {
  readonly offsets: OffsetStore;
  readonly stream: ResultStream;
  readonly publisher: StreamPublisher;
  readonly games: GameStore;
  readonly process: (entry: RawEntry, hints: RetryHints) => Promise<EntryOutcome>;
  /** Ends an entry that ran out of tries (`StartFlow.giveUp`). */
  readonly giveUp: (entry: RawEntry, attempts: EntryAttempts) => Promise<EntryOutcome>;
  readonly settings: ConsumerSettings;
  readonly log: Log;
  readonly telemetry: ConsumerTelemetry;
  /** Identifies this invocation as the lease owner (the Lambda request id). */
  readonly invocationId: string;
  readonly nowMs: () => number;
  readonly remainingMs: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * CPU time (ms; user + system, every thread of the process) spent since the invocation
   * began, for the summary's log line: on Lambda itself, the figure to size the function's
   * memory by (docs/performance.md, "Measuring on Lambda"). Absent, the line leaves it out.
   */
  readonly cpuTimeMs?: () => number;
}

const summaryKey = {
  [EntryResult.applied]: 'applied',
  [EntryResult.ignored]: 'ignored',
  [EntryResult.invalid]: 'invalid',
  [EntryResult.deadLettered]: 'deadLettered',
} as const;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const runInvocation = async (deps: InvocationDeps): Promise<InvocationSummary> => {
  const { log, settings } = deps;
  const sleep = deps.sleep ?? defaultSleep;
  const following = settings.pollIntervalMs > 0;
  const lease = await takeLease(
    { ...deps, sleep, timeBudgetMarginMs: settings.timeBudgetMarginMs },
    // Only a following invocation waits: a drain finds the holder doing its work.
    following,
  );
  const followFields = (): FollowSummary =>
    following ? { followedMs: 0, emptyPolls: 0, handoverWaitMs: lease.waitedMs } : {};
  if (!lease.result.acquired) {
    const { heldBy } = lease.result;
    log.info('offset lease held by another invocation; nothing to do', {
      lease_owner: heldBy.owner,
      lease_expires_at: new Date(heldBy.expiresAtMs).toISOString(),
      ...(following ? { handover_wait_ms: lease.waitedMs, lease_tries: lease.tries } : {}),
    });
    const held: InvocationSummary = {
      entriesRead: 0,
      applied: 0,
      ignored: 0,
      invalid: 0,
      deadLettered: 0,
      lastEntryId: lease.result.state.lastEntryId,
      stoppedBy: StoppedBy.leaseHeld,
      ...followFields(),
    };
    if (following) deps.telemetry.follow({ followedMs: 0, emptyPolls: 0, handoverWaitMs: lease.waitedMs });
    return held;
  }
  if (lease.result.replacedMalformed !== undefined) {
    // Left by hand or by a tool: such a lease could never expire, so it was taken instead of waited on.
    log.warn('offset item held a malformed lease; replaced it', {
      lease_owner: String(lease.result.replacedMalformed.owner),
      lease_expires_at: String(lease.result.replacedMalformed.expiresAt),
    });
  }
  if (lease.tries > 1) {
    log.info('offset lease taken over from the previous invocation', {
      handover_wait_ms: lease.waitedMs,
      lease_tries: lease.tries,
    });
  }

  let state: OffsetState = lease.result.state;
  const summary: InvocationSummary = {
    entriesRead: 0,
    applied: 0,
    ignored: 0,
    invalid: 0,
    deadLettered: 0,
    lastEntryId: state.lastEntryId,
    stoppedBy: StoppedBy.drained,
    ...followFields(),
  };
  log.debug('offset lease taken', { start_entry_id: state.lastEntryId });
  const pacer = new FollowPacer(settings.pollIntervalMs, settings.pollIdleMaxMs);
  /** When the invocation first caught up with the stream (follow mode). */
  let caughtUpAt: number | undefined;
  /** The last read returned less than it asked for: nothing was left unread then. */
  let caughtUp = false;
  // Started once the first read answered, awaited at the end: it runs beside the batches.
  let trimCheck: Promise<void> | undefined;

  try {
    let next: Promise<Read> | undefined;
    for (;;) {
      if (deps.remainingMs() < settings.timeBudgetMarginMs) {
        // A follower that had caught up leaves nothing unread that it could have seen.
        summary.stoppedBy = caughtUp ? StoppedBy.drained : StoppedBy.timeBudget;
        break;
      }
      const startedAtMs = deps.nowMs();
      const page = unwrap(await (next ?? read(deps, state.lastEntryId)));
      const batch = page.entries;
      next = undefined;
      trimCheck ??= checkNothingTrimmed(deps, state.lastEntryId, batch[0]?.id);
      // A short batch means the stream had no more: skip the read that would say so.
      const full = batch.length === settings.batchSize || page.cutShort;
      caughtUp = !full;
      if (caughtUp) caughtUpAt ??= startedAtMs;
      if (batch.length === 0) {
        summary.stoppedBy = StoppedBy.drained;
        if (!following || !(await idle(deps, pacer.delayAfter({ entries: 0, full, startedAtMs }, deps.nowMs())))) break;
        continue;
      }
      summary.entriesRead += batch.length;
      // Fetch the next batch while this one is processed. It starts after this batch, which
      // is where the offset will be if every entry gets done; otherwise the loop stops anyway.
      if (full && settings.prefetch) next = read(deps, (batch.at(-1) as RawEntry).id);

      const applied = await applyBatch(deps, state, batch);
      state = applied.state;
      summary.lastEntryId = state.lastEntryId;
      countResults(deps, summary, applied.states);

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
        if (!following) break;
        if (!(await idle(deps, pacer.delayAfter({ entries: batch.length, full, startedAtMs }, deps.nowMs())))) break;
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
  await trimCheck;
  if (following) {
    const stats = {
      followedMs: caughtUpAt === undefined ? 0 : deps.nowMs() - caughtUpAt,
      emptyPolls: pacer.emptyPolls,
      handoverWaitMs: lease.waitedMs,
    };
    Object.assign(summary, stats);
    deps.telemetry.follow(stats);
  }
  if (summary.stoppedBy === StoppedBy.drained && summary.entriesRead === 0)
    await checkOffsetInStream(deps, state.lastEntryId);
  await releaseLease(deps, summary);
  await recordLag(deps, summary.stoppedBy === StoppedBy.drained, state.lastEntryId);

  log.info('runtime job results invocation finished', {
    ...summary,
    ...(deps.cpuTimeMs === undefined ? {} : { cpuMs: Math.round(deps.cpuTimeMs()) }),
  });
  return summary;
};

/**
 * A following invocation's wait between reads. A wait that would reach into the margin is
 * cut there and ends the following (false): the invocation stops on time, and at the moment
 * the next one expects it to (see lease-wait.ts).
 */
const idle = async (deps: InvocationDeps, delayMs: number): Promise<boolean> => {
  const sleep = deps.sleep ?? defaultSleep;
  const untilMargin = deps.remainingMs() - deps.settings.timeBudgetMarginMs;
  if (untilMargin > delayMs) {
    if (delayMs > 0) await sleep(delayMs);
    return true;
  }
  if (untilMargin > 0) await sleep(untilMargin);
  return false;
};

const releaseLease = async (deps: InvocationDeps, summary?: InvocationSummary): Promise<void> => {
  await deps.offsets.releaseLease(deps.invocationId, summary ? { ...summary } : undefined).catch((error: unknown) => {
    deps.log.warn('could not release offset lease; it expires at the invocation deadline', { err: errorText(error) });
  });
};

/** A read's result or its error: a prefetch may be abandoned, and must not reject unseen. */
type Read = StreamPage | { readonly error: InvocationFailedError };

const read = (deps: InvocationDeps, afterId: string): Promise<Read> =>
  deps.stream
    .readAfter(afterId, deps.settings.batchSize)
    .catch((error: unknown) => ({ error: new InvocationFailedError('reading the results stream failed', error) }));

const unwrap = (result: Read): StreamPage => {
  if ('error' in result) throw result.error;
  return result;
};

/**
 * Processes a batch, publishes what it produced, and commits the offset past the entries
 * now done (with the attempts of those that are not, and the record of those done above it).
 */
const applyBatch = async (deps: InvocationDeps, state: OffsetState, batch: readonly RawEntry[]) => {
  const result = await processBatch({ ...deps, sleep: deps.sleep ?? defaultSleep }, batch, state);
  const states = await publishOutcomes(deps, batch, result.states);
  const next = advanceOffset(state, batch, states);
  // Nothing moved and nothing new to remember (e.g. a fatal error on the first entry).
  if (JSON.stringify(next) !== JSON.stringify(state)) await deps.offsets.commit(deps.invocationId, next);
  return {
    state: next,
    states,
    halted: result.halted,
    fatalError: result.fatalError,
    /** Some entry failed transiently, or its messages could not be published. */
    unfinished: states.some((entryState) => entryState.kind === 'failed'),
  };
};

/** Counts each entry done by this invocation in exactly one result. */
const countResults = (deps: InvocationDeps, summary: InvocationSummary, states: readonly EntryState[]): void => {
  for (const state of states) {
    if (state.kind !== 'done') continue;
    const result = state.outcome.result;
    summary[summaryKey[result]] += 1;
    deps.telemetry.entry(result);
    const deadLetters = state.outcome.messages.filter(
      (message) => message.stream === deps.settings.deadLetterStream,
    ).length;
    for (let i = 0; i < deadLetters; i += 1) deps.telemetry.deadLetter();
  }
};
