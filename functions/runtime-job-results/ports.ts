/**
 * The interfaces between the start-flow logic and the systems around it. Each has one
 * adapter in `adapters/`; unit tests use in-memory fakes of them.
 */
import type { Game, PendingIntent, RuntimeBinding } from './domain/game.js';
import type { Transition } from './domain/transitions.js';
import type { RawEntry } from './domain/job-result.js';

export interface UpdateStatusInput {
  readonly gameId: string;
  readonly transition: Transition;
  /** ISO-8601 UTC, written as `statusChangedAt` and `updatedAt`. */
  readonly at: string;
  /** The stream entry that caused the change, kept in `lastTransition` for operators. */
  readonly sourceEntryId?: string;
  /** Written in the same conditional update (the outbox, docs/contract.md §5.7). */
  readonly pendingIntent?: PendingIntent;
}

/** What the binding write found: the game, and whether it now holds this binding. */
export interface BindResult {
  /** False when the game was not `starting`: nothing was written. */
  readonly bound: boolean;
  /** The game after the write (bound), or as it was (not bound). */
  readonly game: Game;
}

/**
 * The game-item markers that belong to one entry until it is done: the intent outbox, and
 * the start claim an earlier release wrote before its binding (read, never written now).
 */
export type EntryMarker = 'pendingIntent' | 'startFlowClaim';

/**
 * Games table. Decisions are thrown as `ConflictError`, `NotFoundError`,
 * `InvalidTransitionError` and `WriteRejectedError`, only when DynamoDB itself answered so.
 */
export interface GameStore {
  /**
   * The success flow's first write, which is also its read: writes the binding only if the
   * game is `starting`, in one strongly consistent request that returns the game either way.
   * Throws `NotFoundError` when the game does not exist.
   */
  bindRuntime(gameId: string, binding: RuntimeBinding, at: string): Promise<BindResult>;
  /** The game as it is now (a strongly consistent read); `NotFoundError` when it does not exist. */
  getGame(gameId: string): Promise<Game>;
  /**
   * Compare-and-set on `status`; also removes a legacy `startFlowClaim`. An SDK retry of this
   * very request that finds its own write applied succeeds; a later replay of the entry does not.
   */
  updateStatus(input: UpdateStatusInput): Promise<void>;
  /** Removes `marker` if it still belongs to `sourceEntryId`; a no-op otherwise. */
  clearMarker(gameId: string, marker: EntryMarker, sourceEntryId: string): Promise<void>;
}

/** Retry bookkeeping for an entry that failed transiently, kept with the offset. */
export interface EntryAttempts {
  readonly attempts: number;
  readonly lastError: string;
  /**
   * The entry reached the orphan path but its stop job could not be published. A retry
   * must publish it without looking at the game again: by then the game is no longer
   * `starting`, and a fresh read would ignore the entry and leave the container running.
   */
  readonly pendingStopJob?: boolean;
  /**
   * The entry ran out of tries and is being given up, but the give-up itself (for a claimed
   * success: the orphan path) has not finished. A retry goes straight back to it.
   */
  readonly givingUp?: boolean;
}

/** Stream entries from `first` to `last`, both included, all finished. */
export interface EntryRange {
  readonly first: string;
  readonly last: string;
}

/** The consumer's position, as read when the lease was taken. */
export interface OffsetState {
  readonly lastEntryId: string;
  /** Attempts of entries above `lastEntryId` that failed transiently, by entry id. */
  readonly attempts: Readonly<Record<string, EntryAttempts>>;
  /**
   * Entries above `lastEntryId` already finished (done after one that was not), in stream
   * order; skipped when read again. Absent when there are none.
   */
  readonly finished?: readonly EntryRange[];
}

export interface Lease {
  readonly owner: string;
  /** Epoch ms; the lease is free after this. */
  readonly expiresAtMs: number;
}

export type LeaseResult =
  | {
      readonly acquired: true;
      readonly state: OffsetState;
      /** The item held a lease this store did not write (an expiry that is not a number): replaced, for the log. */
      readonly replacedMalformed?: { readonly owner: unknown; readonly expiresAt: unknown };
    }
  | { readonly acquired: false; readonly heldBy: Lease; readonly state: OffsetState };

/** Offsets table: one item per consumer, holding the offset, the lease and retry counts. */
export interface OffsetStore {
  acquireLease(owner: string, expiresAtMs: number, nowMs: number): Promise<LeaseResult>;
  /** Fenced by the lease: throws `LeaseLostError` when `owner` no longer holds it. */
  commit(owner: string, state: OffsetState): Promise<void>;
  /**
   * Releases the lease if `owner` still holds it, recording how the invocation ended
   * (`lastInvocation`, for operators) in the same write.
   */
  releaseLease(owner: string, lastInvocation?: Readonly<Record<string, string | number>>): Promise<void>;
}

/**
 * A request for the offset lease, left beside the results stream where the holder's reads see
 * it (docs/contract.md §6.5).
 */
export interface LeaseAsk {
  /** The asking invocation's lease owner id. */
  readonly by: string;
  /** When the asker started (epoch ms): only an ask from an invocation newer than the holder counts. */
  readonly startedAtMs: number;
}

/** One read of the results stream. */
export interface StreamPage {
  readonly entries: RawEntry[];
  /** The read stopped before `count` entries at its byte budget: more entries follow. */
  readonly cutShort: boolean;
  /** The lease ask standing when the read ran, if any: read in the same request. */
  readonly ask?: LeaseAsk;
}

/** The results stream. */
export interface ResultStream {
  /**
   * Up to `count` entries with ids strictly after `afterId`, in stream order; fewer when the
   * stream has no more, or when their bytes reach the read's budget (`cutShort`).
   */
  readAfter(afterId: string, count: number): Promise<StreamPage>;
  /** The id of the last entry ever added (deleted or not); undefined when the stream does not exist. */
  lastGeneratedId(): Promise<string | undefined>;
  /**
   * The id of the newest entry ever deleted or trimmed from the stream; undefined when none
   * was, when the stream does not exist, or when the server does not say (before Redis 7).
   */
  maxDeletedId(): Promise<string | undefined>;
  /** How many entries come after `afterId`, counted up to `cap`, and the first of them. */
  backlogAfter(afterId: string, cap: number): Promise<{ count: number; oldestId: string | undefined }>;
  /** Leaves `ask` for the lease's holder, replacing any earlier one; it lapses after `ttlMs`. */
  askForLease(ask: LeaseAsk, ttlMs: number): Promise<void>;
}

/**
 * One message for an output stream (docs/contract.md §4). Fields are pairs, not an object, so names such
 * as `__proto__` copied from a bad entry into a dead letter stay plain data.
 */
export interface OutboundMessage {
  readonly stream: string;
  readonly fields: readonly (readonly [string, string])[];
}

/** Publishes to output streams. A batch goes out in one round trip where the transport allows. */
export interface StreamPublisher {
  publish(messages: readonly OutboundMessage[]): Promise<void>;
  /**
   * A small write to a key of our own: resolves when the store takes writes at all. Tells a
   * message that cannot be published apart from an outage.
   */
  probeWrite(): Promise<void>;
}

export interface RegisterGameRequest {
  readonly gameId: string;
  readonly containerId: string;
  readonly engineEndpoint: string;
  readonly targetEngineVersion: string;
  readonly turnSchedule: string;
  /** Sent as `Idempotency-Key` so Game Master can deduplicate a replayed registration. */
  readonly idempotencyKey: string;
}

export interface GameMaster {
  /**
   * Resolves on any 2xx; throws `GameMasterAuthError` on 401 (a credentials problem, not
   * an outage) and `GameMasterUnavailableError` on anything else, a 403 for one game included.
   */
  registerRuntime(request: RegisterGameRequest): Promise<void>;
}
