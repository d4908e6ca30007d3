/**
 * The hand-over between two following invocations (docs/contract.md §6.5): the one that finds
 * the lease held asks the holder for it, and takes it the moment the holder lets go.
 *
 * The ask is one Upstash write beside the results stream; the holder's reads bring it back
 * with the entries, so the holder pays nothing to listen. The holder stops at its next poll or
 * batch boundary, commits and releases. The asker's tries are the lease's conditional
 * `UpdateItem`, so they are DynamoDB requests: close together right after the ask, when the
 * release is due, further apart as the wait grows ({@link askPollDelayMs}).
 *
 * A holder that does not answer (it is killed, or it stopped reading) is waited for as
 * before asks existed: its release is expected at `expiry - margin`, and the tries crowd
 * around that moment ({@link leasePollDelayMs}); the last is timed for when its lease can be
 * taken unreleased, its expiry plus the clock-skew allowance of the lease's condition.
 */
import { LEASE_CLOCK_SKEW_MS } from '../adapters/dynamodb-offset-store.js';
import type { LeaseResult, OffsetStore, ResultStream } from '../ports.js';

/** Shortest wait between two tries: the hand-over gap is at most about this long. */
export const LEASE_POLL_MIN_MS = 100;

/** Longest wait between two tries, so a holder that stops early is not waited for long. */
export const LEASE_POLL_MAX_MS = 2_000;

/** Each try after an ask waits this much longer than the one before (1.5×), from {@link LEASE_POLL_MIN_MS}. */
const ASK_POLL_GROWTH = 1.5;

/** The wait before the next try to take a held lease that can be taken at `freeAtMs` unreleased. */
export const leasePollDelayMs = (nowMs: number, expectedReleaseMs: number, freeAtMs: number): number => {
  const delay = Math.min(LEASE_POLL_MAX_MS, Math.max(LEASE_POLL_MIN_MS, Math.abs(expectedReleaseMs - nowMs) / 2));
  const untilFree = freeAtMs - nowMs;
  // Past that moment a try that still fails meets a new holder: the loop reads its lease again.
  return Math.round(Math.max(untilFree > 0 ? 1 : LEASE_POLL_MIN_MS, Math.min(delay, untilFree)));
};

/** The wait before the `triesSinceAsk`-th try (1-based) after asking: 100, 150, 225 … up to 1 s. */
export const askPollDelayMs = (triesSinceAsk: number): number =>
  Math.round(Math.min(1_000, LEASE_POLL_MIN_MS * ASK_POLL_GROWTH ** Math.max(0, triesSinceAsk - 1)));

export interface LeaseWaitDeps {
  readonly offsets: OffsetStore;
  /** Where the ask goes (beside the results stream). */
  readonly stream: Pick<ResultStream, 'askForLease'>;
  readonly invocationId: string;
  readonly nowMs: () => number;
  readonly remainingMs: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** The margin this invocation and its predecessor keep before their deadlines. */
  readonly timeBudgetMarginMs: number;
  /**
   * How long an asked holder is given to answer before it counts as not answering: one idle
   * poll and a batch in flight (the settings' `POLL_IDLE_MAX_MS` plus a few seconds).
   */
  readonly askPatienceMs: number;
}

export interface LeaseWait {
  readonly result: LeaseResult;
  /** When this invocation began to take the lease (epoch ms): an ask must come from later. */
  readonly startedAtMs: number;
  /** From the first try to the answer of the last (0 when the first try settled it). */
  readonly waitedMs: number;
  /** `acquireLease` requests made, the first included. */
  readonly tries: number;
  /** Whether this invocation asked the holder for the lease. */
  readonly asked: boolean;
}

/**
 * Takes the lease, until this invocation's deadline. With `wait`, a held lease is asked for
 * and waited on while its holder answers, or while it ends within this invocation's budget;
 * otherwise the held result is returned.
 */
export const takeLease = async (deps: LeaseWaitDeps, wait: boolean): Promise<LeaseWait> => {
  const startedAt = deps.nowMs();
  // The lease lasts exactly as long as this invocation may live, so a killed invocation's
  // lease frees itself when its time would have run out anyway.
  const deadline = startedAt + deps.remainingMs();
  const lastStart = deadline - deps.timeBudgetMarginMs;
  let result = await deps.offsets.acquireLease(deps.invocationId, deadline, startedAt);
  let tries = 1;
  let asked: { readonly owner: string; readonly atMs: number; tries: number } | undefined;
  while (!result.acquired && wait) {
    const holder = result.heldBy;
    const now = deps.nowMs();
    // A new holder (another asker took the lease first) is asked in turn: it hands over if
    // this invocation is newer than it, and otherwise stops being waited for after the patience.
    if (asked?.owner !== holder.owner) {
      await deps.stream.askForLease({ by: deps.invocationId, startedAtMs: startedAt }, lastStart - now);
      asked = { owner: holder.owner, atMs: deps.nowMs(), tries: 0 };
    }
    // An unreleased lease is taken once expired by the holder's clock too (the condition's
    // skew allowance); taken then at the latest, it must leave this invocation time to work.
    const freeAt = holder.expiresAtMs + LEASE_CLOCK_SKEW_MS + 1;
    const answering = now - asked.atMs < deps.askPatienceMs;
    if (!answering && freeAt > lastStart) break;
    asked.tries += 1;
    const delay = answering
      ? askPollDelayMs(asked.tries)
      : leasePollDelayMs(now, holder.expiresAtMs - deps.timeBudgetMarginMs, freeAt);
    if (now + delay > lastStart) break;
    await deps.sleep(delay);
    result = await deps.offsets.acquireLease(deps.invocationId, deadline, deps.nowMs());
    tries += 1;
  }
  return {
    result,
    startedAtMs: startedAt,
    waitedMs: tries === 1 ? 0 : deps.nowMs() - startedAt,
    tries,
    asked: asked !== undefined,
  };
};
