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
import { EntryWindow, followRetryDelayMs } from './entry-window.js';
import type { Round } from './entry-window.js';
import { takeLease } from './lease-wait.js';
import { advanceOffset, isRecordedFinished } from './offset-progress.js';
import { publishOutcomes } from './publish-outcomes.js';
import { checkNothingTrimmed, checkOffsetInStream, recordLag } from './stream-position.js';
import type { ConsumerSettings } from './settings.js';

export const StoppedBy = {
  drained: 'drained',
  timeBudget: 'time_budget',
  transientError: 'transient_error',
  leaseHeld: 'lease_held',
  /** A newer invocation, or an operator, asked for the lease (docs/contract.md §6.5). */
  handedOver: 'handed_over',
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
    {
      ...deps,
      sleep,
      timeBudgetMarginMs: settings.timeBudgetMarginMs,
      askPatienceMs: settings.pollIdleMaxMs + ASK_PATIENCE_EXTRA_MS,
    },
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
      ...(following ? { handover_wait_ms: lease.waitedMs, lease_tries: lease.tries, lease_asked: lease.asked } : {}),
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
      lease_asked: lease.asked,
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
  // Follow mode keeps going past a failing game; a drain stops after the batch (§5.9).
  const window = following ? new EntryWindow() : undefined;
  /** The last entry read: the next read starts after it (the offset may be further back). */
  let readCursor = state.lastEntryId;
  /** When the invocation first caught up with the stream (follow mode). */
  let caughtUpAt: number | undefined;
  /** The last read returned less than it asked for: nothing was left unread then. */
  let caughtUp = false;
  // Started once the first read answered, awaited at the end: it runs beside the batches.
  let trimCheck: Promise<void> | undefined;
  /** A newer invocation (or an operator) asked for the lease: stop after this round. */
  const askedToHandOver = (page: StreamPage): boolean =>
    page.ask !== undefined && page.ask.by !== deps.invocationId && page.ask.startedAtMs > lease.startedAtMs;
  /** Nothing left that this invocation could have done. */
  const nothingLeft = (): boolean => caughtUp && (window === undefined || window.size === 0);

  try {
    let next: Promise<Read> | undefined;
    for (;;) {
      if (deps.remainingMs() < settings.timeBudgetMarginMs) {
        // A follower that had caught up leaves nothing unread that it could have seen.
        summary.stoppedBy = nothingLeft() ? StoppedBy.drained : StoppedBy.timeBudget;
        break;
      }
      const startedAtMs = deps.nowMs();
      // A full window is only retried until the offset moves on.
      const page = window?.hasRoom === false ? NO_READ : unwrap(await (next ?? read(deps, readCursor)));
      const fresh = page.entries;
      next = undefined;
      trimCheck ??= checkNothingTrimmed(deps, state.lastEntryId, fresh[0]?.id);
      const handOver = askedToHandOver(page);
      // A short batch means the stream had no more: skip the read that would say so.
      const full = fresh.length === settings.batchSize || page.cutShort;
      caughtUp = !full;
      if (caughtUp) caughtUpAt ??= startedAtMs;
      summary.entriesRead += fresh.length;
      readCursor = fresh.at(-1)?.id ?? readCursor;
      window?.add(fresh);
      const round = window?.round(state, deps.nowMs()) ?? { span: fresh, runnable: fresh };

      if (round.runnable.length > 0) {
        // Fetch the next batch while this one is processed. It starts after this batch, which
        // is where the offset will be if every entry gets done; otherwise the loop stops anyway.
        if (full && settings.prefetch && !handOver && (window?.hasRoom ?? true)) next = read(deps, readCursor);
        const applied = await applyRound(deps, state, round, window === undefined);
        state = applied.state;
        summary.lastEntryId = state.lastEntryId;
        countResults(deps, summary, applied.states);
        window?.settle(round, applied.states, state, retryDelay(settings), deps.nowMs());

        if (applied.halted === 'fatal') throw new InvocationFailedError('processing stopped', applied.fatalError);
        if (applied.unfinished && window === undefined) {
          summary.stoppedBy = StoppedBy.transientError;
          break;
        }
        if (applied.halted === 'time_budget') {
          summary.stoppedBy = StoppedBy.timeBudget;
          break;
        }
      }
      if (handOver) {
        summary.stoppedBy = StoppedBy.handedOver;
        break;
      }
      if (full && round.runnable.length > 0) continue;
      summary.stoppedBy = StoppedBy.drained;
      if (!following) break;
      const pollMs = pacer.delayAfter({ entries: fresh.length, full, startedAtMs }, deps.nowMs());
      const retryMs = window?.untilNextRetryMs(deps.nowMs());
      if (!(await idle(deps, retryMs === undefined ? pollMs : Math.min(pollMs, retryMs)))) {
        summary.stoppedBy = nothingLeft() ? StoppedBy.drained : StoppedBy.timeBudget;
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

/** An asked holder answers within one idle poll plus a batch in flight; this is the batch's allowance. */
const ASK_PATIENCE_EXTRA_MS = 3_000;

/** A round that reads nothing: the window is full, so only its entries are retried. */
const NO_READ: StreamPage = { entries: [], cutShort: false };

const retryDelay =
  (settings: ConsumerSettings) =>
  (attempts: number): number =>
    followRetryDelayMs(settings.retryBackoffMs, attempts);

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
 * Processes a round's entries, publishes what they produced, and commits the offset past the
 * entries now done (with the attempts of those that are not, and the record of those done
 * above it). The states returned cover the round's whole span, in stream order.
 */
const applyRound = async (deps: InvocationDeps, state: OffsetState, round: Round, retryInPlace: boolean) => {
  const result = await processBatch(
    { ...deps, sleep: deps.sleep ?? defaultSleep, retryInPlace },
    round.runnable,
    state,
  );
  const byId = new Map(round.runnable.map((entry, index) => [entry.id, result.states[index]]));
  const processed = round.span.map(
    (entry): EntryState =>
      byId.get(entry.id) ??
      (isRecordedFinished(state, entry.id) ? { kind: 'finished_earlier' } : { kind: 'not_started' }),
  );
  const states = await publishOutcomes(deps, round.span, processed);
  const next = advanceOffset(state, round.span, states);
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
