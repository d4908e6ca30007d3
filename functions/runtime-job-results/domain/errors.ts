import type { Transition } from './transitions.js';

/** Base of the decisions the game store reports; everything else is an infrastructure error. */
class GameStoreDecision extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GameStoreDecision';
  }
}

/** The game exists but its status is not the one the write expected (docs/contract.md §3.2). */
export class ConflictError extends GameStoreDecision {
  readonly gameId: string;
  readonly expectedStatus: string;
  /** The status found by the failed condition, read back with `ALL_OLD`. */
  readonly actualStatus: string | undefined;

  constructor(gameId: string, expectedStatus: string, actualStatus: string | undefined) {
    super(`game ${gameId} is ${actualStatus ?? 'without status'}, expected ${expectedStatus}`);
    this.name = 'ConflictError';
    this.gameId = gameId;
    this.expectedStatus = expectedStatus;
    this.actualStatus = actualStatus;
  }
}

/** The game does not exist. */
export class NotFoundError extends GameStoreDecision {
  readonly gameId: string;

  constructor(gameId: string) {
    super(`game ${gameId} not found`);
    this.name = 'NotFoundError';
    this.gameId = gameId;
  }
}

/** The transition table does not allow the change (docs/contract.md §3.2). */
export class InvalidTransitionError extends GameStoreDecision {
  readonly transition: Transition;

  constructor(transition: Transition) {
    super(`transition ${transition.from} -> ${transition.to} by ${transition.trigger} is not allowed`);
    this.name = 'InvalidTransitionError';
    this.transition = transition;
  }
}

/**
 * The store refuses this write for good: retrying the same request cannot help (the item
 * would grow past its size limit, the request is malformed). Not an outage.
 */
export class WriteRejectedError extends GameStoreDecision {
  readonly gameId: string;

  constructor(gameId: string, write: string, cause: Error) {
    super(`the games table refused the ${write} of game ${gameId} for good: ${cause.name}: ${cause.message}`, {
      cause,
    });
    this.name = 'WriteRejectedError';
    this.gameId = gameId;
  }
}

/** Conflict and InvalidTransition both mean "the game moved on": absorbed alike, as the Go worker did. */
export const isMovedOn = (error: unknown): error is ConflictError | InvalidTransitionError =>
  error instanceof ConflictError || error instanceof InvalidTransitionError;
