/**
 * Follow mode's entries above the offset (docs/contract.md §5.9): everything read after the
 * offset and not yet passed by it, so that one game's failing entry does not stop the others.
 *
 * An entry that failed transiently waits out its backoff here while new entries are read and
 * applied; the entries of its game wait behind it, in stream order. Entries finished above it
 * stay in the window (as recorded finished) until the offset passes them, so that each round
 * sees the whole span and the record of finished entries keeps one range per gap.
 */
import { withJitter } from '../backoff.js';
import { compareEntryIds } from '../domain/entry-id.js';
import type { RawEntry } from '../domain/job-result.js';
import type { OffsetState } from '../ports.js';
import type { EntryState } from './entry-state.js';
import { laneKeyOf } from './lanes.js';
import { isRecordedFinished } from './offset-progress.js';

/**
 * Most entries kept above the offset. At the cap the follower stops reading and only retries
 * what it holds: the entries and their record must stay far from the function's memory and
 * from DynamoDB's 400 KB item limit (see `MAX_FINISHED_RANGES`).
 */
export const MAX_WINDOW_ENTRIES = 2_000;

/** Each retry of an entry waits this many times as long as the one before. */
const RETRY_GROWTH = 8;

/** Longest wait before an entry's next try. */
const RETRY_MAX_MS = 60_000;

/**
 * The wait after an entry's `attempts`-th failed try: 8× per try from `RETRY_BACKOFF_MS`, up to
 * a minute, so that `MAX_ATTEMPTS` (5 by default) spans about a minute, as a drain's retries do
 * across two scheduled invocations.
 */
export const followRetryDelayMs = (retryBackoffMs: number, attempts: number): number =>
  withJitter(Math.min(RETRY_MAX_MS, retryBackoffMs * RETRY_GROWTH ** Math.max(0, attempts - 1)));

/** A round's split of the window: what runs now, and the whole span for the offset. */
export interface Round {
  /** Every entry of the window, in stream order: the span the offset and its record are worked out over. */
  readonly span: readonly RawEntry[];
  /** The entries to try now, in stream order: unfinished, and not behind an entry in its backoff. */
  readonly runnable: readonly RawEntry[];
}

export class EntryWindow {
  #entries: RawEntry[] = [];
  /** Entry id → when its next try is due (epoch ms), for entries that failed. */
  readonly #dueAtMs = new Map<string, number>();

  get size(): number {
    return this.#entries.length;
  }

  /** Whether more entries may be read into the window. */
  get hasRoom(): boolean {
    return this.#entries.length < MAX_WINDOW_ENTRIES;
  }

  /** Whether any entry of the window waits for a retry. */
  get waiting(): boolean {
    return this.#dueAtMs.size > 0;
  }

  add(entries: readonly RawEntry[]): void {
    this.#entries.push(...entries);
  }

  /** The round to run at `nowMs`, given the offset state (which says what is finished). */
  round(state: OffsetState, nowMs: number): Round {
    const blocked = new Set<string>();
    const runnable: RawEntry[] = [];
    for (const entry of this.#entries) {
      if (isRecordedFinished(state, entry.id)) continue;
      const lane = laneKeyOf(entry);
      if (blocked.has(lane)) continue;
      const dueAt = this.#dueAtMs.get(entry.id);
      if (dueAt !== undefined && dueAt > nowMs) {
        blocked.add(lane);
        continue;
      }
      runnable.push(entry);
    }
    return { span: [...this.#entries], runnable };
  }

  /**
   * After a round: entries the offset passed leave the window, entries that failed get their
   * next try's time, entries that did not fail lose theirs.
   */
  settle(
    round: Round,
    states: readonly EntryState[],
    state: OffsetState,
    retryDelayMs: (attempts: number) => number,
    nowMs: number,
  ): void {
    round.span.forEach((entry, index) => {
      const entryState = states[index];
      if (entryState?.kind === 'failed')
        this.#dueAtMs.set(entry.id, nowMs + retryDelayMs(entryState.attempts.attempts));
      else if (entryState?.kind !== 'not_started') this.#dueAtMs.delete(entry.id);
    });
    this.#entries = this.#entries.filter((entry) => compareEntryIds(entry.id, state.lastEntryId) > 0);
    for (const id of this.#dueAtMs.keys()) if (compareEntryIds(id, state.lastEntryId) <= 0) this.#dueAtMs.delete(id);
  }

  /** Milliseconds until the earliest retry is due (0 if one is due now); undefined when none waits. */
  untilNextRetryMs(nowMs: number): number | undefined {
    let earliest: number | undefined;
    for (const dueAt of this.#dueAtMs.values()) earliest = earliest === undefined ? dueAt : Math.min(earliest, dueAt);
    return earliest === undefined ? undefined : Math.max(0, earliest - nowMs);
  }
}
