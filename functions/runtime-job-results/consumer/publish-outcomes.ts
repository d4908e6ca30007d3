/**
 * Getting a batch's messages out (stop jobs excepted: the flow publishes those itself,
 * before the status change they must precede).
 */
import type { RawEntry } from '../domain/job-result.js';
import { truncateText } from '../domain/text.js';
import type { EntryAttempts, GameStore, OffsetState, StreamPublisher } from '../ports.js';
import type { EntryOutcome } from '../start-flow/outcome.js';
import { errorText } from '../telemetry/log.js';
import type { Log } from '../telemetry/log.js';
import type { ConsumerTelemetry } from '../telemetry/metrics-recorder.js';
import type { EntryState } from './batch-processor.js';
import type { ConsumerSettings } from './settings.js';

export interface PublishDeps {
  readonly publisher: StreamPublisher;
  readonly games: GameStore;
  readonly settings: ConsumerSettings;
  readonly log: Log;
  readonly telemetry: ConsumerTelemetry;
}

/**
 * Publishes the batch's intents and dead letters in one request, then clears the markers
 * they came from. If the batch request fails, each entry's messages go out on their own, so
 * a message that can never be published holds back only its entry; that entry counts an
 * attempt, and after `MAX_ATTEMPTS` its messages are written to the error log instead and
 * the entry is let go (an intent also stays in its game's outbox for `ops replay`). When
 * nothing can be published at all, no attempt is counted: that is an outage to wait out.
 * Returns the entries whose messages are not out yet, with their attempts.
 */
export const publishOutcomes = async (
  deps: PublishDeps,
  batch: readonly RawEntry[],
  states: readonly EntryState[],
  priorAttempts: OffsetState['attempts'],
): Promise<Map<number, EntryAttempts>> => {
  const unpublished = new Map<number, EntryAttempts>();
  // Given up: their markers stay in the game item, the copy operators can replay from.
  const abandoned = new Set<number>();
  const done = states.flatMap((state, index) => (state.kind === 'done' ? [{ index, outcome: state.outcome }] : []));
  const pending = done.filter(({ outcome }) => outcome.messages.length > 0);
  if (pending.length > 0) await publishAll(deps, batch, pending, priorAttempts, unpublished, abandoned);
  const cleared = done.filter(({ index }) => !unpublished.has(index) && !abandoned.has(index));
  for (const { gameId, marker, sourceEntryId } of cleared.flatMap(({ outcome }) => outcome.markersToClear)) {
    // A leftover marker only matters if this very entry is replayed; then its message is
    // re-sent under the same key, which the receiving service deduplicates.
    await deps.games.clearMarker(gameId, marker, sourceEntryId).catch((error: unknown) => {
      deps.log.warn('could not clear a published entry marker from the game', {
        game_id: gameId,
        stream_entry_id: sourceEntryId,
        marker,
        err: errorText(error),
      });
    });
  }
  return unpublished;
};

/** The batch in one request; if that fails, entry by entry, recording who is left. */
const publishAll = async (
  deps: PublishDeps,
  batch: readonly RawEntry[],
  pending: readonly { index: number; outcome: EntryOutcome }[],
  priorAttempts: OffsetState['attempts'],
  unpublished: Map<number, EntryAttempts>,
  abandoned: Set<number>,
): Promise<void> => {
  try {
    await deps.publisher.publish(pending.flatMap(({ outcome }) => outcome.messages));
    return;
  } catch (error) {
    deps.telemetry.transientError();
    deps.log.warn('publishing the batch failed; publishing entry by entry', {
      messages: pending.length,
      first_entry_id: batch[0]?.id,
      err: errorText(error),
    });
  }
  const failures: { index: number; outcome: EntryOutcome; lastError: string }[] = [];
  for (const { index, outcome } of pending) {
    await deps.publisher.publish(outcome.messages).catch((error: unknown) => {
      failures.push({ index, outcome, lastError: errorText(error, 512) });
    });
  }
  // Nothing at all goes out: Upstash refuses writes (an outage, a full database), not one
  // bad message. Wait it out without counting attempts, so no entry is given up for it.
  const outage = failures.length === pending.length;
  for (const { index, outcome, lastError } of failures) {
    const entryId = (batch[index] as RawEntry).id;
    const prior = priorAttempts[entryId]?.attempts ?? 0;
    const attempts = outage ? prior : prior + 1;
    if (attempts < deps.settings.maxAttempts) {
      unpublished.set(index, { attempts, lastError });
      continue;
    }
    abandoned.add(index);
    deps.telemetry.publishAbandoned();
    deps.log.error('giving up publishing the messages of a runtime job result; their content follows', {
      stream_entry_id: entryId,
      attempts,
      err: lastError,
      messages: outcome.messages.map((message) => ({
        stream: message.stream,
        fields: message.fields.map(([field, value]) => [field, truncateText(value)]),
      })),
    });
  }
};
