/**
 * The start flow for one result entry (docs/contract.md §5): the Go worker's per-message
 * handling, with dead letters, the intent outbox and transient errors left to the caller to retry.
 *
 * Decisions (invalid entry, game moved on, game not found) are returned as an
 * {@link EntryOutcome}. Anything else is thrown: the consumer retries the entry and keeps the
 * offset before it (docs/contract.md §5.9).
 */
import { GameStatus, TransitionTrigger } from '../domain/game.js';
import type { Game } from '../domain/game.js';
import { ConsumerError, GameMasterAuthError, isMovedOn, NotFoundError, WriteRejectedError } from '../errors.js';
import { decodeJobResult, Outcome } from '../domain/job-result.js';
import { truncateText } from '../domain/text.js';
import type { FailureResult, RawEntry, SuccessResult } from '../domain/job-result.js';
import type { Transition } from '../domain/transitions.js';
import type { BindResult, EntryAttempts, GameMaster, GameStore, StreamPublisher } from '../ports.js';
import { errorText } from '../telemetry/log.js';
import type { Log, LogAttributes } from '../telemetry/log.js';
import { StartFlowOutcome } from '../telemetry/metric-names.js';
import type { StartFlowTelemetry } from '../telemetry/metrics-recorder.js';
import {
  DeadLetterReason,
  deadLetterMessage,
  intentMessage,
  pausedAfterStartIntent,
  stopJobMessage,
} from './messages.js';
import { EntryResult, outcome } from './outcome.js';
import type { EntryOutcome, MarkerToClear } from './outcome.js';

export interface StartFlowStreams {
  readonly stopJobs: string;
  readonly notificationIntents: string;
  readonly deadLetters: string;
}

export interface StartFlowDeps {
  readonly games: GameStore;
  readonly gameMaster: GameMaster;
  /** Used directly only for stop jobs, which must be out before the status changes. */
  readonly publisher: StreamPublisher;
  readonly streams: StartFlowStreams;
  readonly log: Log;
  readonly telemetry: StartFlowTelemetry;
  readonly nowMs: () => number;
}

/** Where a start flow leaves a `starting` game. */
type StartFlowTarget = typeof GameStatus.running | typeof GameStatus.paused | typeof GameStatus.startFailed;

const fromStarting = (to: StartFlowTarget): Transition & { readonly to: StartFlowTarget } => ({
  from: GameStatus.starting,
  to,
  trigger: TransitionTrigger.runtimeEvent,
});

const toRunning = fromStarting(GameStatus.running);
const toPaused = fromStarting(GameStatus.paused);
const toStartFailed = fromStarting(GameStatus.startFailed);

/**
 * The orphan path could not publish its stop job. Retried like any transient error, but the
 * retry goes straight back to the stop job (see `EntryAttempts.pendingStopJob`).
 */
export class StopJobNotPublishedError extends ConsumerError {
  constructor(gameId: string, cause: unknown) {
    super(`stop job for orphan container of game ${gameId} not published: ${errorText(cause)}`, {
      cause,
      context: { gameId },
    });
    this.name = 'StopJobNotPublishedError';
  }
}

/** What an earlier try of the same entry left to finish. */
export interface RetryHints {
  readonly pendingStopJob?: boolean;
}

export class StartFlow {
  readonly #deps: StartFlowDeps;

  constructor(deps: StartFlowDeps) {
    this.#deps = deps;
  }

  /** Applies one entry; throws only for errors that are worth retrying. */
  async process(entry: RawEntry, hints: RetryHints = {}): Promise<EntryOutcome> {
    const decoded = decodeJobResult(entry);
    if (hints.pendingStopJob && decoded.ok && decoded.result.outcome === Outcome.success) {
      return this.#finishOrphan(entry, decoded.result.gameId);
    }
    if (!decoded.ok) {
      const { rule, detail, part } = decoded.invalid;
      // The Go worker's two messages: a decode error, or a success event that fails validation.
      const message = part === 'entry' ? 'decode runtime job result' : 'invalid runtime job success event';
      this.#deps.log.warn(message, {
        stream_entry_id: entry.id,
        game_id: decoded.gameId ?? null,
        err: detail,
        dead_letter_reason: rule,
      });
      return this.#deadLetter(EntryResult.invalid, entry, rule);
    }
    const { result } = decoded;
    return result.outcome === Outcome.failure ? this.#handleFailure(entry, result) : this.#handleSuccess(entry, result);
  }

  /**
   * Ends an entry that ran out of tries (`MAX_ATTEMPTS`), with a `retries_exhausted` dead
   * letter for the record. A success result has started a container: given up with its game
   * still `starting`, the container would run with nobody to stop it. A stop job an earlier
   * try owes goes out first, whatever the game says now. Otherwise one read of the game
   * decides: still `starting`, it takes the orphan path (stop job, then `start_failed`); moved
   * on, it is handled as any replay is (an intent left in the outbox is finished).
   * Throws when that cannot finish: the caller then retries it, without a limit.
   */
  async giveUp(entry: RawEntry, attempts: EntryAttempts): Promise<EntryOutcome> {
    const deadLetter = deadLetterMessage(
      this.#deps.streams.deadLetters,
      entry,
      DeadLetterReason.retriesExhausted(attempts.lastError),
      attempts.attempts,
      this.#deps.nowMs(),
    );
    const decoded = decodeJobResult(entry);
    if (!decoded.ok || decoded.result.outcome !== Outcome.success)
      return outcome(EntryResult.deadLettered, [deadLetter]);
    const { gameId } = decoded.result;
    const decided = await this.#giveUpSuccess(entry, gameId, attempts);
    return outcome(EntryResult.deadLettered, [...decided.messages, deadLetter], decided.markersToClear);
  }

  async #giveUpSuccess(entry: RawEntry, gameId: string, attempts: EntryAttempts): Promise<EntryOutcome> {
    const attrs = { ...this.#attrs(entry, gameId), attempts: attempts.attempts, err: attempts.lastError };
    if (attempts.pendingStopJob === true) {
      this.#deps.log.error('giving up a runtime success; orphan container path', attrs);
      return this.#finishOrphan(entry, gameId);
    }
    let game: Game;
    try {
      game = await this.#deps.games.getGame(gameId);
    } catch (error) {
      // A game that no longer exists has nothing left to change.
      if (error instanceof NotFoundError) return outcome(EntryResult.deadLettered);
      throw error;
    }
    if (game.status !== GameStatus.starting) return this.#handleNotStarting(entry, game);
    this.#deps.log.error('giving up a runtime success; orphan container path', attrs);
    return this.#finishOrphan(entry, gameId);
  }

  async #handleFailure(entry: RawEntry, result: FailureResult): Promise<EntryOutcome> {
    const attrs = this.#attrs(entry, result.gameId);
    try {
      await this.#changeStatus(entry, result.gameId, toStartFailed);
    } catch (error) {
      return this.#lostStatusWrite(error, entry, result.gameId, toStartFailed);
    }
    this.#deps.log.info('game start failed', {
      ...attrs,
      ...transitionAttrs(toStartFailed),
      error_code: truncateText(result.errorCode),
      error_message: truncateText(result.errorMessage),
    });
    this.#deps.telemetry.outcome(StartFlowOutcome.startFailed);
    return outcome(EntryResult.applied);
  }

  async #handleSuccess(entry: RawEntry, result: SuccessResult): Promise<EntryOutcome> {
    const attrs = this.#attrs(entry, result.gameId);
    const at = this.#nowIso();
    let bind: BindResult;
    try {
      // The read and the binding in one write (docs/contract.md §5.3): a Lobby cancel lands
      // either before it (the game is not `starting`: ignored below) or after it (the game
      // holds this binding and goes on as any bound game). No window is left between them.
      bind = await this.#deps.games.bindRuntime(
        result.gameId,
        { containerId: result.containerId, engineEndpoint: result.engineEndpoint, runtimeJobId: entry.id, boundAt: at },
        at,
      );
    } catch (error) {
      // DynamoDB refuses this write for good (the item would pass 400 KB): the refusal says
      // nothing of the game's status, so a read decides (§5.4). Throttling, 5xx and network
      // errors are retried first; if they last, `giveUp` orphans.
      if (error instanceof WriteRejectedError) return this.#handleRefusedBinding(entry, result.gameId, error);
      if (!(error instanceof NotFoundError)) throw error;
      this.#deps.log.warn('load game for runtime success', { ...attrs, err: error.message });
      return this.#deadLetter(EntryResult.deadLettered, entry, DeadLetterReason.gameNotFound);
    }
    const { game } = bind;
    if (!bind.bound) return this.#handleNotStarting(entry, game);

    try {
      await this.#deps.gameMaster.registerRuntime({
        gameId: game.gameId,
        containerId: result.containerId,
        engineEndpoint: result.engineEndpoint,
        targetEngineVersion: game.targetEngineVersion,
        turnSchedule: game.turnSchedule,
        idempotencyKey: entry.id,
      });
    } catch (error) {
      if (error instanceof GameMasterAuthError) throw error;
      return this.#handleGameMasterUnavailable(entry, game, error);
    }

    try {
      await this.#changeStatus(entry, game.gameId, toRunning);
    } catch (error) {
      return this.#lostStatusWrite(error, entry, game.gameId, toRunning);
    }
    this.#deps.telemetry.outcome(StartFlowOutcome.running);
    this.#deps.log.info('game running after runtime registration', { ...attrs, ...transitionAttrs(toRunning) });
    return outcome(EntryResult.applied);
  }

  /**
   * The game is not `starting`: as the Go worker did, the entry is ignored (a game holding
   * this entry's binding is a replay). Two exceptions finish what this very entry began
   * before an invocation died (docs/contract.md §5.7, §5.8): an intent still in the outbox,
   * and a start claim without a binding from this entry, which an earlier release wrote
   * before its binding — the game moved on in between, and the stop job may never have
   * gone out.
   */
  async #handleNotStarting(entry: RawEntry, game: Game): Promise<EntryOutcome> {
    const attrs = { ...this.#attrs(entry, game.gameId), current_status: game.status };
    const pending = game.pendingIntent;
    if (pending !== undefined && pending.sourceEntryId === entry.id) {
      this.#deps.log.info('publishing runtime paused intent left unpublished', {
        ...attrs,
        idempotency_key: pending.idempotencyKey,
      });
      return outcome(
        EntryResult.applied,
        [intentMessage(this.#deps.streams.notificationIntents, pending)],
        [{ gameId: game.gameId, marker: 'pendingIntent', sourceEntryId: entry.id }],
      );
    }
    if (game.startFlowClaim?.sourceEntryId === entry.id && game.runtimeBinding?.runtimeJobId !== entry.id) {
      this.#deps.log.warn('persist runtime binding failed; orphan container path', {
        ...attrs,
        err: 'game left starting before this result was bound (resumed after an interrupted invocation)',
      });
      return this.#finishOrphan(entry, game.gameId, { clearClaim: true });
    }
    this.#deps.log.info('ignored runtime success for game not in starting', attrs);
    return outcome(EntryResult.ignored);
  }

  /**
   * The binding can never be saved. A game still `starting` has nobody to use this container:
   * the orphan path. A game that moved on (a replay of a result already handled, or a game
   * Lobby cancelled) is handled as any game not `starting`; a game that is gone, as not found.
   */
  async #handleRefusedBinding(entry: RawEntry, gameId: string, cause: WriteRejectedError): Promise<EntryOutcome> {
    let game: Game;
    try {
      game = await this.#deps.games.getGame(gameId);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      this.#deps.log.warn('load game for runtime success', { ...this.#attrs(entry, gameId), err: error.message });
      return this.#deadLetter(EntryResult.deadLettered, entry, DeadLetterReason.gameNotFound);
    }
    if (game.status !== GameStatus.starting) return this.#handleNotStarting(entry, game);
    return this.#handleOrphan(entry, gameId, cause);
  }

  /** Orphan container path (docs/contract.md §5.4): stop job first, then `start_failed`. */
  async #handleOrphan(entry: RawEntry, gameId: string, cause: Error): Promise<EntryOutcome> {
    this.#deps.log.warn('persist runtime binding failed; orphan container path', {
      ...this.#attrs(entry, gameId),
      err: errorText(cause),
    });
    return this.#finishOrphan(entry, gameId);
  }

  /** The orphan path's stop job and status change; `clearClaim` removes an earlier release's start claim after. */
  async #finishOrphan(entry: RawEntry, gameId: string, options: { clearClaim?: boolean } = {}): Promise<EntryOutcome> {
    const attrs = this.#attrs(entry, gameId);
    const markers: MarkerToClear[] =
      options.clearClaim === true ? [{ gameId, marker: 'startFlowClaim', sourceEntryId: entry.id }] : [];
    // Not deferred to the batch: it must be out before the status changes, and if it cannot
    // be published the status must not change either (the throw makes the entry retry).
    try {
      await this.#deps.publisher.publish([
        stopJobMessage(this.#deps.streams.stopJobs, gameId, entry.id, this.#deps.nowMs()),
      ]);
    } catch (error) {
      throw new StopJobNotPublishedError(gameId, error);
    }
    try {
      await this.#changeStatus(entry, gameId, toStartFailed);
    } catch (error) {
      if (error instanceof NotFoundError) {
        this.#deps.log.warn('transition orphan game to start_failed', { ...attrs, err: error.message });
        return outcome(EntryResult.applied);
      }
      if (error instanceof WriteRejectedError) {
        // The container is stopped; the game item itself cannot be changed any more.
        this.#deps.log.error('transition orphan game to start_failed', { ...attrs, err: error.message });
        return outcome(EntryResult.applied, [], markers);
      }
      if (!isMovedOn(error)) throw error;
    }
    // Counted even when the game had already moved on: the start flow did end in failure,
    // and the Go worker counted it the same way.
    this.#deps.telemetry.outcome(StartFlowOutcome.startFailed);
    return outcome(EntryResult.applied, [], markers);
  }

  /** Paused-after-start path (docs/contract.md §5.5), with the intent in an outbox. */
  async #handleGameMasterUnavailable(entry: RawEntry, game: Game, cause: unknown): Promise<EntryOutcome> {
    const attrs = this.#attrs(entry, game.gameId);
    this.#deps.log.warn('gm registration failed; pause-after-start path', { ...attrs, err: errorText(cause) });
    const intent = pausedAfterStartIntent(entry.id, game, this.#deps.nowMs());
    try {
      await this.#changeStatus(entry, game.gameId, toPaused, intent);
    } catch (error) {
      return this.#lostStatusWrite(error, entry, game.gameId, toPaused);
    }
    this.#deps.telemetry.outcome(StartFlowOutcome.paused);
    return outcome(
      EntryResult.applied,
      [intentMessage(this.#deps.streams.notificationIntents, intent)],
      [{ gameId: game.gameId, marker: 'pendingIntent', sourceEntryId: entry.id }],
    );
  }

  /**
   * A status write that lost, for `failure`, `running` and `paused` alike: the game moved on →
   * ignored; it vanished → dead letter `game_not_found`; anything else is thrown for a retry.
   * The log lines are the Go worker's, named after the transition.
   */
  #lostStatusWrite(
    error: unknown,
    entry: RawEntry,
    gameId: string,
    transition: Transition & { readonly to: StartFlowTarget },
  ): EntryOutcome {
    const attrs = this.#attrs(entry, gameId);
    const lines = LOST_WRITE_LINES[transition.to];
    if (isMovedOn(error)) {
      this.#deps.log.info(lines.movedOn, { ...attrs, ...currentStatus(error) });
      return outcome(EntryResult.ignored);
    }
    if (error instanceof NotFoundError) {
      this.#deps.log.warn(lines.vanished, { ...attrs, err: error.message });
      return this.#deadLetter(EntryResult.deadLettered, entry, DeadLetterReason.gameNotFound);
    }
    throw error;
  }

  async #changeStatus(
    entry: RawEntry,
    gameId: string,
    transition: Transition,
    pendingIntent?: ReturnType<typeof pausedAfterStartIntent>,
  ): Promise<void> {
    await this.#deps.games.updateStatus({
      gameId,
      transition,
      at: this.#nowIso(),
      sourceEntryId: entry.id,
      ...(pendingIntent === undefined ? {} : { pendingIntent }),
    });
    this.#deps.telemetry.transition(transition);
  }

  #deadLetter(result: EntryResult, entry: RawEntry, reason: string): EntryOutcome {
    return outcome(result, [deadLetterMessage(this.#deps.streams.deadLetters, entry, reason, 1, this.#deps.nowMs())]);
  }

  #attrs(entry: RawEntry, gameId: string): LogAttributes {
    return { stream_entry_id: entry.id, game_id: gameId };
  }

  #nowIso(): string {
    return new Date(this.#deps.nowMs()).toISOString();
  }
}

/**
 * The Go worker's log lines for a status write that lost, by the transition's target: the
 * game had moved on, or it had vanished.
 */
const LOST_WRITE_LINES: Readonly<Record<StartFlowTarget, { movedOn: string; vanished: string }>> = {
  [GameStatus.startFailed]: {
    movedOn: 'ignored runtime failure for game not in starting',
    vanished: 'transition game to start_failed',
  },
  [GameStatus.running]: {
    movedOn: 'ignored running transition for game not in starting',
    vanished: 'transition game to running',
  },
  [GameStatus.paused]: {
    movedOn: 'ignored paused transition for game not in starting',
    vanished: 'transition game to paused',
  },
};

const transitionAttrs = (transition: Transition): LogAttributes => ({
  from_status: transition.from,
  to_status: transition.to,
  trigger: transition.trigger,
});

const currentStatus = (error: unknown): LogAttributes =>
  error !== null && typeof error === 'object' && 'actualStatus' in error && typeof error.actualStatus === 'string'
    ? { current_status: error.actualStatus }
    : {};
