import type { EntryResult } from '../telemetry/metric-names.js';
import type { EntryMarker, OutboundMessage } from '../ports.js';

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
