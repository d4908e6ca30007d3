/**
 * The errors of the ports (`ports.ts`): what the adapters throw and the start flow and the
 * consumer catch. One family with one base class, so every error carries its cause and the
 * facts a log line or an operator needs (`context`), and callers decide on the type and on
 * the fields (an HTTP status), never on the message text: messages may echo data that came
 * from a stream entry.
 */
import type { Transition } from './domain/transitions.js';

export interface ConsumerErrorOptions {
  readonly cause?: unknown;
  /** Facts about the failure, safe to log (no tokens). */
  readonly context?: Readonly<Record<string, string | number | undefined>>;
}

/** Base of every error this function raises on purpose. */
export class ConsumerError extends Error {
  readonly context: Readonly<Record<string, string | number | undefined>>;

  constructor(message: string, options: ConsumerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConsumerError';
    this.context = options.context ?? {};
  }
}

// ---- Games table decisions: the start flow's answers, not infrastructure errors ----

/** Base of the decisions the game store reports; everything else is an infrastructure error. */
class GameStoreDecision extends ConsumerError {
  constructor(message: string, options: ConsumerErrorOptions = {}) {
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
    super(`game ${gameId} is ${actualStatus ?? 'without status'}, expected ${expectedStatus}`, {
      context: { gameId, expectedStatus, actualStatus },
    });
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
    super(`game ${gameId} not found`, { context: { gameId } });
    this.name = 'NotFoundError';
    this.gameId = gameId;
  }
}

/** The transition table does not allow the change (docs/contract.md §3.2). */
export class InvalidTransitionError extends GameStoreDecision {
  readonly transition: Transition;

  constructor(transition: Transition) {
    super(`transition ${transition.from} -> ${transition.to} by ${transition.trigger} is not allowed`, {
      context: { from: transition.from, to: transition.to, trigger: transition.trigger },
    });
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
      context: { gameId, write },
    });
    this.name = 'WriteRejectedError';
    this.gameId = gameId;
  }
}

/** Conflict and InvalidTransition both mean "the game moved on": absorbed alike, as the Go worker did. */
export const isMovedOn = (error: unknown): error is ConflictError | InvalidTransitionError =>
  error instanceof ConflictError || error instanceof InvalidTransitionError;

// ---- Infrastructure errors ----

/** Another invocation holds the offset lease now: this one must stop without writing. */
export class LeaseLostError extends ConsumerError {
  readonly owner: string;

  constructor(owner: string, options: ConsumerErrorOptions = {}) {
    super(`offset lease of ${owner} was taken over; not writing the offset`, {
      ...options,
      context: { owner, ...options.context },
    });
    this.name = 'LeaseLostError';
    this.owner = owner;
  }
}

/** A configured table does not exist: a deployment mistake, never worth retrying per entry. */
export class MissingTableError extends ConsumerError {
  readonly tableName: string;

  constructor(tableName: string, options: ConsumerErrorOptions = {}) {
    super(`DynamoDB table "${tableName}" does not exist (check GAMES_TABLE / OFFSETS_TABLE and the region)`, {
      ...options,
      context: { tableName },
    });
    this.name = 'MissingTableError';
    this.tableName = tableName;
  }
}

/**
 * Game Master did not register the runtime: it answered other than 2xx (a 403 for this game
 * included), timed out, or could not be reached. The game takes the paused path.
 */
export class GameMasterUnavailableError extends ConsumerError {
  readonly status: number | undefined;

  constructor(message: string, status?: number, options: ConsumerErrorOptions = {}) {
    super(message, { ...options, context: { status, ...options.context } });
    this.name = 'GameMasterUnavailableError';
    this.status = status;
  }
}

/**
 * Game Master refused our token (401). Not "Game Master unavailable": pausing every started
 * game over a stale or wrong token would be worse than stopping. The invocation fails loudly
 * and the next one re-reads the token from Secrets Manager.
 */
export class GameMasterAuthError extends ConsumerError {
  readonly status: number;

  constructor(status: number) {
    super(`Game Master refused the API token (HTTP ${status}); check GM_API_TOKEN / its secret`, {
      context: { status },
    });
    this.name = 'GameMasterAuthError';
    this.status = status;
  }
}

/**
 * A dependency refused this function's credentials, or something in front of it blocks every
 * request: no entry can be processed, and counting attempts would only use up every entry's.
 */
export class AccessRefusedError extends ConsumerError {
  readonly dependency: string;

  constructor(dependency: string, detail: string, options: ConsumerErrorOptions = {}) {
    super(`${dependency} refused the function's requests: ${detail}`, {
      ...options,
      context: { dependency, ...options.context },
    });
    this.name = 'AccessRefusedError';
    this.dependency = dependency;
  }
}

/** The stream answered with something that is not the shape Redis gives. */
export class MalformedStreamReplyError extends ConsumerError {
  constructor(detail: string) {
    super(`malformed stream reply: ${detail}`);
    this.name = 'MalformedStreamReplyError';
  }
}

/**
 * A request was cut because the invocation's deadline came near: whatever it was waiting
 * for did not answer in time, and the invocation must end before Lambda ends it.
 */
export class DeadlineReachedError extends ConsumerError {
  constructor(dependency: string, options: ConsumerErrorOptions = {}) {
    super(`${dependency} did not answer before the invocation's deadline; request abandoned`, {
      ...options,
      context: { dependency },
    });
    this.name = 'DeadlineReachedError';
  }
}
