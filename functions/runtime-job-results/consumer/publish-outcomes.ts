/**
 * Getting a batch's messages out (stop jobs excepted: the flow publishes those itself,
 * before the status change they must precede).
 */
import type { RawEntry } from '../domain/job-result.js';
import { truncateText } from '../domain/text.js';
import type { GameStore, StreamPublisher } from '../ports.js';
import type { EntryOutcome } from '../start-flow/outcome.js';
import { errorText } from '../telemetry/log.js';
import type { Log } from '../telemetry/log.js';
import type { ConsumerTelemetry } from '../telemetry/metrics-recorder.js';
import { countAttempt } from './entry-state.js';
import type { EntryState } from './entry-state.js';
import type { ConsumerSettings } from './settings.js';

export interface PublishDeps {
  readonly publisher: StreamPublisher;
  readonly games: GameStore;
  readonly settings: ConsumerSettings;
  readonly log: Log;
  readonly telemetry: ConsumerTelemetry;
}

type Decided = Extract<EntryState, { kind: 'decided' }>;

interface Pending {
  readonly index: number;
  readonly state: Decided;
}

/**
 * Publishes the batch's intents and dead letters in one request, then clears the markers
 * they came from, and returns the batch's states with every `decided` entry now `done` or
 * `failed`. If the batch request fails, each entry's messages go out on their own, so a
 * message that can never be published holds back only its entry. That entry counts an
 * attempt, and after `MAX_ATTEMPTS` its messages are written to the error log instead, the
 * entry is let go and `publish_abandoned` counted (an intent also stays in its game's outbox
 * for `ops replay`). When nothing can be published and a probe write to a key of our own
 * fails too, Upstash is down: no attempt is counted, the outage is waited out.
 */
export const publishOutcomes = async (
  deps: PublishDeps,
  batch: readonly RawEntry[],
  states: readonly EntryState[],
): Promise<EntryState[]> => {
  // Done unless its messages fail below.
  const next = states.map(
    (state): EntryState => (state.kind === 'decided' ? { kind: 'done', outcome: state.outcome } : state),
  );
  const pending = states.flatMap((state, index): Pending[] =>
    state.kind === 'decided' && state.outcome.messages.length > 0 ? [{ index, state }] : [],
  );
  // Given up: their markers stay in the game item, the copy operators can replay from.
  const abandoned = new Set<number>();
  for (const failure of await publishAll(deps, batch, pending)) {
    const { index, state, error, outage } = failure;
    const attempts = countAttempt(state.attempts, error, !outage);
    // An outage gives nothing up, even an entry already past MAX_ATTEMPTS (one being given up).
    if (outage || attempts.attempts < deps.settings.maxAttempts) {
      next[index] = { kind: 'failed', attempts };
      continue;
    }
    abandoned.add(index);
    abandon(deps, (batch[index] as RawEntry).id, attempts.attempts, attempts.lastError, state.outcome);
  }
  const cleared = next.flatMap((state, index) =>
    state.kind === 'done' && !abandoned.has(index) ? state.outcome.markersToClear : [],
  );
  for (const { gameId, marker, sourceEntryId } of cleared) {
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
  return next;
};

interface Failure extends Pending {
  readonly error: unknown;
  /** Nothing could be published and the probe write failed too. */
  readonly outage: boolean;
}

/** The batch in one request; if that fails, entry by entry. Returns who is left. */
const publishAll = async (deps: PublishDeps, batch: readonly RawEntry[], pending: readonly Pending[]) => {
  if (pending.length === 0) return [];
  try {
    await deps.publisher.publish(pending.flatMap(({ state }) => state.outcome.messages));
    return [];
  } catch (error) {
    deps.telemetry.transientError();
    deps.log.warn('publishing the batch failed; publishing entry by entry', {
      messages: pending.length,
      first_entry_id: batch[0]?.id,
      err: errorText(error),
    });
  }
  const failures: { pending: Pending; error: unknown }[] = [];
  for (const item of pending) {
    await deps.publisher.publish(item.state.outcome.messages).catch((error: unknown) => {
      failures.push({ pending: item, error });
    });
  }
  const outage = failures.length === pending.length && !(await takesWrites(deps));
  return failures.map(({ pending: item, error }): Failure => ({ ...item, error, outage }));
};

/**
 * Nothing of the batch went out: Upstash down (an outage, a full database) or every message
 * unpublishable (one bad message alone in its batch, a stream key holding another type). A
 * small write of our own tells them apart: if it goes through, the messages are the problem.
 */
const takesWrites = async (deps: PublishDeps): Promise<boolean> => {
  try {
    await deps.publisher.probeWrite();
    return true;
  } catch (error) {
    deps.log.warn('Upstash refuses writes; waiting the outage out without counting attempts', {
      err: errorText(error),
    });
    return false;
  }
};

const abandon = (
  deps: PublishDeps,
  entryId: string,
  attempts: number,
  lastError: string,
  outcome: EntryOutcome,
): void => {
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
};
