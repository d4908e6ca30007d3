/** What an invocation reports about where it stands in the stream when it ends. */
import { compareEntryIds, entryAgeMs, STREAM_START } from '../domain/entry-id.js';
import type { ResultStream } from '../ports.js';
import { errorText } from '../telemetry/log.js';
import type { Log } from '../telemetry/log.js';
import type { ConsumerTelemetry } from '../telemetry/metrics-recorder.js';

export interface StreamPositionDeps {
  readonly stream: ResultStream;
  readonly log: Log;
  readonly telemetry: ConsumerTelemetry;
  readonly nowMs: () => number;
}

/** Lag is counted up to this many entries; beyond it the figure says "at least". */
const LAG_COUNT_CAP = 100_000;

/**
 * An idle stream and an offset beyond its last id means the stream was recreated (or the
 * offset was set by hand): new entries, numbered from the start again, would be skipped.
 * Moving the offset back is an operator's call (`npm run ops -- offset set`), so this only
 * warns and counts, on every invocation until fixed.
 */
export const checkOffsetInStream = async (deps: StreamPositionDeps, lastEntryId: string): Promise<void> => {
  if (lastEntryId === STREAM_START) return;
  try {
    const last = await deps.stream.lastGeneratedId();
    if (last !== undefined && compareEntryIds(lastEntryId, last) <= 0) return;
    deps.telemetry.offsetAhead();
    deps.log.warn('offset is past the end of the results stream; was the stream recreated?', {
      last_entry_id: lastEntryId,
      stream_last_id: last ?? null,
    });
  } catch (error) {
    deps.log.warn('could not check the offset against the stream', { err: errorText(error) });
  }
};

/**
 * Entries after the offset that were trimmed (`XADD … MAXLEN`, `XTRIM`) or deleted before
 * this consumer read them are gone: the read simply continues at the first entry left, so
 * without this check they would be lost without a word. Redis records the newest id it ever
 * deleted. Between the offset and the first entry the read found (`firstReadId`; none: the
 * stream's end) no entry is left, so a deleted id in that gap is an entry nobody read.
 * A deleted id at or past the first entry read says nothing about the gap (entries read
 * may have been trimmed since), and is not reported.
 *
 * This warns and counts on every invocation that finds the gap. The offset is not moved:
 * the read already continues after the gap, and what to do about the lost results is an
 * operator's call.
 */
export const checkNothingTrimmed = async (
  deps: StreamPositionDeps,
  lastEntryId: string,
  firstReadId: string | undefined,
): Promise<void> => {
  try {
    const maxDeleted = await deps.stream.maxDeletedId();
    if (maxDeleted === undefined || compareEntryIds(maxDeleted, lastEntryId) <= 0) return;
    if (firstReadId !== undefined && compareEntryIds(maxDeleted, firstReadId) >= 0) return;
    deps.telemetry.entriesTrimmed();
    deps.log.warn('entries after the offset were trimmed from the results stream before they were read', {
      last_entry_id: lastEntryId,
      max_deleted_entry_id: maxDeleted,
      first_entry_read: firstReadId ?? null,
    });
  } catch (error) {
    deps.log.warn('could not check the results stream for trimmed entries', { err: errorText(error) });
  }
};

/**
 * Consumer lag at the end of the invocation: age of the oldest entry not done, and count.
 * A drained invocation knows both are zero without asking.
 */
export const recordLag = async (deps: StreamPositionDeps, drained: boolean, lastEntryId: string): Promise<void> => {
  if (drained) {
    deps.telemetry.lag(0, 0);
    return;
  }
  try {
    const backlog = await deps.stream.backlogAfter(lastEntryId, LAG_COUNT_CAP);
    const ageMs = backlog.oldestId === undefined ? 0 : entryAgeMs(backlog.oldestId, deps.nowMs());
    deps.telemetry.lag(ageMs, backlog.count);
  } catch (error) {
    deps.log.warn('could not measure consumer lag', { err: errorText(error) });
  }
};
