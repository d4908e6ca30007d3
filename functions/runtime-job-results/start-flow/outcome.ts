import type { EntryResult } from '../telemetry/metric-names.js';
import type { OutboundMessage } from '../ports.js';

/** An outbox entry to remove once its message is out. */
export interface IntentToClear {
  readonly gameId: string;
  readonly idempotencyKey: string;
}

/**
 * What processing one entry decided. The entry is done only once `messages` are published
 * (they go out with the rest of the batch, in one request); `intentsToClear` are removed
 * after that.
 */
export interface EntryOutcome {
  readonly result: EntryResult;
  readonly messages: readonly OutboundMessage[];
  readonly intentsToClear: readonly IntentToClear[];
}

export const outcome = (
  result: EntryResult,
  messages: readonly OutboundMessage[] = [],
  intentsToClear: readonly IntentToClear[] = [],
): EntryOutcome => ({ result, messages, intentsToClear });
