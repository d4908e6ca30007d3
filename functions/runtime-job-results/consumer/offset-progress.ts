import { compareEntryIds } from '../domain/entry-id.js';
import type { RawEntry } from '../domain/job-result.js';
import type { EntryAttempts, OffsetState } from '../ports.js';

/**
 * The new offset after a batch: the last id of the longest run of done entries from the
 * start of the batch. An entry done after one that is not stays above the offset and is
 * seen again next time, which is harmless: a replay changes nothing (docs/contract.md §5.6).
 */
export const advanceOffset = (
  previous: OffsetState,
  batch: readonly RawEntry[],
  isDone: (index: number) => boolean,
  failed: ReadonlyMap<string, EntryAttempts>,
): OffsetState => {
  let lastEntryId = previous.lastEntryId;
  for (let index = 0; index < batch.length && isDone(index); index += 1) {
    lastEntryId = (batch[index] as RawEntry).id;
  }
  const attempts: Record<string, EntryAttempts> = {};
  for (const [entryId, row] of [...Object.entries(previous.attempts), ...failed]) {
    // Entries at or below the offset are done; their counts are history.
    if (compareEntryIds(entryId, lastEntryId) > 0) attempts[entryId] = row;
  }
  return { lastEntryId, attempts };
};
