/**
 * Follow mode's pacing: when an invocation that has caught up reads the stream again.
 *
 * Upstash's REST API serves no blocking `XREAD … BLOCK`, so following means polling, and an
 * idle poll is one `XRANGE`. The rule:
 * - a full batch is followed by the next read at once (there is more);
 * - a short batch (the stream had no more) by a read `POLL_INTERVAL_MS` after the previous
 *   read started, so a steady trickle costs one read per interval, not two;
 * - an empty read by a wait of `POLL_INTERVAL_MS` for a quiet spell of {@link QUIET_SPELL_MS}
 *   after an entry, or after the invocation took the lease (so results a second apart never
 *   meet the back-off, and a hand-over does not hold back what arrived meanwhile); after that
 *   the wait doubles with each empty read, up to `POLL_IDLE_MAX_MS` (or the interval, if that
 *   is longer). Any entry brings it back to the interval.
 * So an idle stream costs about one read per `POLL_IDLE_MAX_MS` (1.2 s by default: about 50
 * a minute, a few more in the quiet spell after each take) whatever the interval, and the
 * first result after a quiet spell waits at most that long to be read.
 */

/** Empty reads keep the interval this long before the back-off starts. */
const QUIET_SPELL_MS = 1_000;

/** What one read found, as the pacer needs it. */
export interface ReadOutcome {
  /** Entries the read returned. */
  readonly entries: number;
  /** It returned as many as it asked for: the stream may hold more. */
  readonly full: boolean;
  /** When the read was sent (epoch ms). */
  readonly startedAtMs: number;
}

/** The wait after an empty read, the `emptyInARow`-th in a row (1-based). */
export const idlePollDelayMs = (intervalMs: number, idleMaxMs: number, emptyInARow: number): number => {
  const doublings = Math.max(0, Math.min(emptyInARow - quietPolls(intervalMs), 30));
  return Math.min(Math.max(intervalMs, idleMaxMs), intervalMs * 2 ** doublings);
};

/** Empty reads in a row that make up the quiet spell at this interval. */
const quietPolls = (intervalMs: number): number => Math.ceil(QUIET_SPELL_MS / intervalMs);

/** Decides the wait before each read of a following invocation, and counts empty reads. */
export class FollowPacer {
  readonly #intervalMs: number;
  readonly #idleMaxMs: number;
  #emptyInARow = 0;
  #emptyPolls = 0;

  constructor(intervalMs: number, idleMaxMs: number) {
    this.#intervalMs = intervalMs;
    this.#idleMaxMs = idleMaxMs;
  }

  /** Reads that found nothing, over the whole invocation. */
  get emptyPolls(): number {
    return this.#emptyPolls;
  }

  /** Milliseconds to wait before the next read, given what the last one found. */
  delayAfter(read: ReadOutcome, nowMs: number): number {
    if (read.entries === 0) {
      this.#emptyInARow += 1;
      this.#emptyPolls += 1;
      return idlePollDelayMs(this.#intervalMs, this.#idleMaxMs, this.#emptyInARow);
    }
    this.#emptyInARow = 0;
    if (read.full) return 0;
    return Math.max(0, read.startedAtMs + this.#intervalMs - nowMs);
  }
}
