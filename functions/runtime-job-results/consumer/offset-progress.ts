/**
 * Where the consumer stands after a batch: the offset, the retry counts of entries that
 * failed, and the record of entries finished above the offset.
 */
import { compareEntryIds } from '../domain/entry-id.js';
import { truncateText } from '../domain/text.js';
import type { RawEntry } from '../domain/job-result.js';
import type { EntryAttempts, EntryRange, OffsetState } from '../ports.js';
import { isFinished } from './entry-state.js';
import type { EntryState } from './entry-state.js';

/**
 * Most ranges of finished entries kept above the offset. Each is two entry ids (at most 41
 * characters each), so the record stays under 100 KB, far from DynamoDB's 400 KB item limit.
 * Ranges only form between entries that are not finished, so in practice there are a few.
 */
export const MAX_FINISHED_RANGES = 1_000;

/** True when an earlier invocation finished the entry `entryId` (it sits above the offset). */
export const isRecordedFinished = (state: OffsetState, entryId: string): boolean =>
  (state.finished ?? []).some(
    (range) => compareEntryIds(entryId, range.first) >= 0 && compareEntryIds(entryId, range.last) <= 0,
  );

/**
 * A batch of `batchLength` entries can add at most one range per two entries. When that could
 * pass {@link MAX_FINISHED_RANGES}, the batch runs in stream order, one entry after the other,
 * stopping at the first that is not done: then it adds no range, and the record shrinks as
 * the offset passes it. One failing entry then holds back every game, as in the Go worker,
 * until it is done or given up.
 */
export const mustRunInOrder = (state: OffsetState, batchLength: number): boolean =>
  (state.finished?.length ?? 0) + Math.ceil(batchLength / 2) > MAX_FINISHED_RANGES;

/**
 * Most bytes of error text kept across all entries' attempts. One error keeps up to 512
 * bytes; when a whole batch of 1,000 entries fails at once (every game throttled), each keeps
 * its share, so the attempts stay near 100 KB and the item, with the finished-entries record,
 * far from 400 KB.
 */
const ATTEMPT_ERRORS_BYTES = 64 * 1024;

const withinErrorBudget = (attempts: Record<string, EntryAttempts>): Record<string, EntryAttempts> => {
  const entries = Object.entries(attempts);
  const share = Math.floor(ATTEMPT_ERRORS_BYTES / Math.max(1, entries.length));
  return Object.fromEntries(
    entries.map(([entryId, row]) => [entryId, { ...row, lastError: truncateText(row.lastError, share) }]),
  );
};

/** Sorted, with overlapping ranges joined. */
const merged = (ranges: readonly EntryRange[]): EntryRange[] => {
  const sorted = [...ranges].sort((a, b) => compareEntryIds(a.first, b.first));
  const out: EntryRange[] = [];
  for (const range of sorted) {
    const last = out.at(-1);
    if (last !== undefined && compareEntryIds(range.first, last.last) <= 0) {
      if (compareEntryIds(range.last, last.last) > 0) out[out.length - 1] = { first: last.first, last: range.last };
    } else {
      out.push(range);
    }
  }
  return out;
};

/** The runs of finished entries in `batch` from `start` on, as ranges. */
const finishedRuns = (batch: readonly RawEntry[], states: readonly EntryState[], start: number): EntryRange[] => {
  const runs: EntryRange[] = [];
  let first: string | undefined;
  let last = '';
  for (let index = start; index <= batch.length; index += 1) {
    const state = states[index];
    if (index < batch.length && state !== undefined && isFinished(state)) {
      const id = (batch[index] as RawEntry).id;
      first ??= id;
      last = id;
    } else if (first !== undefined) {
      runs.push({ first, last });
      first = undefined;
    }
  }
  return runs;
};

/**
 * The state after a batch: the offset moves to the end of the longest run of finished entries
 * from the start of the batch; entries finished after one that is not are recorded (and
 * skipped when read again: a replay could fail or bind a game that Lobby has put back into
 * `starting` meanwhile); entries not done keep their attempts. What the offset passed is
 * dropped from both records.
 */
export const advanceOffset = (
  previous: OffsetState,
  batch: readonly RawEntry[],
  states: readonly EntryState[],
): OffsetState => {
  let lastEntryId = previous.lastEntryId;
  let index = 0;
  for (; index < batch.length && isFinished(states[index] ?? { kind: 'not_started' }); index += 1) {
    lastEntryId = (batch[index] as RawEntry).id;
  }
  const above = (entryId: string): boolean => compareEntryIds(entryId, lastEntryId) > 0;

  const attempts: Record<string, EntryAttempts> = {};
  for (const [entryId, row] of Object.entries(previous.attempts)) if (above(entryId)) attempts[entryId] = row;
  states.forEach((state, i) => {
    const entryId = (batch[i] as RawEntry).id;
    if (state.kind === 'failed' && above(entryId)) attempts[entryId] = state.attempts;
    if (isFinished(state)) delete attempts[entryId];
  });

  const finished = merged([...(previous.finished ?? []), ...finishedRuns(batch, states, index)]).filter((range) =>
    above(range.last),
  );
  return { lastEntryId, attempts: withinErrorBudget(attempts), ...(finished.length > 0 ? { finished } : {}) };
};
