/**
 * The game record as this consumer sees it, and the statuses it moves between.
 */

/** Every status a Lobby game can have (docs/contract.md §3.1). */
export const GameStatus = {
  draft: 'draft',
  enrollmentOpen: 'enrollment_open',
  readyToStart: 'ready_to_start',
  starting: 'starting',
  startFailed: 'start_failed',
  running: 'running',
  paused: 'paused',
  finished: 'finished',
  cancelled: 'cancelled',
} as const;

export type GameStatus = (typeof GameStatus)[keyof typeof GameStatus];

/** What caused a status change; this consumer only ever reacts to runtime events. */
export const TransitionTrigger = {
  runtimeEvent: 'runtime_event',
} as const;

export type TransitionTrigger = (typeof TransitionTrigger)[keyof typeof TransitionTrigger];

/** Where the engine container of a game runs, recorded once the runtime started it. */
export interface RuntimeBinding {
  readonly containerId: string;
  readonly engineEndpoint: string;
  /** The stream entry id of the runtime job result that produced this binding. */
  readonly runtimeJobId: string;
  /** ISO-8601 UTC. */
  readonly boundAt: string;
}

/**
 * An admin notification that must reach the intents stream at least once. It is written
 * into the game item by the same conditional update that pauses the game (the outbox),
 * and removed once published, so a crash in between cannot lose it (docs/contract.md §5.7).
 */
export interface PendingIntent {
  readonly idempotencyKey: string;
  readonly sourceEntryId: string;
  readonly notificationType: string;
  readonly occurredAtMs: number;
  readonly payloadJson: string;
}

/**
 * A start claim, written by earlier releases: their read of a success wrote it (only while
 * the game was `starting`) before the binding, and the status change that ended the flow
 * removed it. This release writes none (the binding is the read, docs/contract.md §5.3) but
 * still honours one: a replay that finds a claim without a binding from the same entry knows
 * the container it started is an orphan that still needs its stop job (§5.8).
 */
export interface StartFlowClaim {
  readonly sourceEntryId: string;
  readonly claimedAt: string;
}

/** The fields of a game record that the start flow reads. */
export interface Game {
  readonly gameId: string;
  readonly gameName: string;
  /** Kept as read: a record may hold a status this code does not know. */
  readonly status: string;
  readonly targetEngineVersion: string;
  readonly turnSchedule: string;
  readonly runtimeBinding?: RuntimeBinding;
  readonly pendingIntent?: PendingIntent;
  readonly startFlowClaim?: StartFlowClaim;
}
