import type { EntryMarker, OutboundMessage } from '../ports.js';

/** What became of one stream entry; every entry done lands in exactly one of these
 * (also the `result` dimension of the `lobby.start_flow.entries` metric). */
export const EntryResult = {
  applied: 'applied',
  ignored: 'ignored',
  invalid: 'invalid',
  deadLettered: 'dead_lettered',
} as const;

export type EntryResult = (typeof EntryResult)[keyof typeof EntryResult];

/** A game-item marker of this entry to remove once its messages are out. */
export interface MarkerToClear {
  readonly gameId: string;
  readonly marker: EntryMarker;
  readonly sourceEntryId: string;
}

/**
 * What processing one entry decided. The entry is done only once `messages` are published
 * (they go out with the rest of the batch, in one request); `markersToClear` are removed
 * after that.
 */
export interface EntryOutcome {
  readonly result: EntryResult;
  readonly messages: readonly OutboundMessage[];
  readonly markersToClear: readonly MarkerToClear[];
}

export const outcome = (
  result: EntryResult,
  messages: readonly OutboundMessage[] = [],
  markersToClear: readonly MarkerToClear[] = [],
): EntryOutcome => ({ result, messages, markersToClear });
