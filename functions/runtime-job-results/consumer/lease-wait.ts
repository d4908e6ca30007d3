/**
 * The hand-over between two following invocations: the one that finds the lease held waits
 * for it instead of returning, when its own budget outlasts the holder's lease.
 *
 * Each try is the lease's conditional `UpdateItem`, so the waiting costs DynamoDB requests.
 * They are kept few by timing them: a holder stops following when less than
 * `TIME_BUDGET_MARGIN_MS` is left before its deadline (which is its lease's expiry), finishes
 * what it has in flight and releases. Its release is expected at `expiry - margin`; the wait
 * between two tries is half the distance to that moment, between {@link LEASE_POLL_MIN_MS}
 * and {@link LEASE_POLL_MAX_MS}, so the tries crowd around the expected release and thin
 * out away from it. A killed holder never releases: the last try is timed for the moment its
 * lease can be taken, its expiry plus the clock-skew allowance of the lease's condition.
 */
import { LEASE_CLOCK_SKEW_MS } from '../adapters/dynamodb-offset-store.js';
import type { LeaseResult, OffsetStore } from '../ports.js';

/** Shortest wait between two tries: the hand-over gap is at most about this long. */
export const LEASE_POLL_MIN_MS = 100;

/** Longest wait between two tries, so a holder that stops early is not waited for long. */
export const LEASE_POLL_MAX_MS = 2_000;

/** The wait before the next try to take a held lease that can be taken at `freeAtMs` unreleased. */
export const leasePollDelayMs = (nowMs: number, expectedReleaseMs: number, freeAtMs: number): number => {
  const delay = Math.min(LEASE_POLL_MAX_MS, Math.max(LEASE_POLL_MIN_MS, Math.abs(expectedReleaseMs - nowMs) / 2));
  const untilFree = freeAtMs - nowMs;
  // Past that moment a try that still fails meets a new holder: the loop reads its lease again.
  return Math.round(Math.max(untilFree > 0 ? 1 : LEASE_POLL_MIN_MS, Math.min(delay, untilFree)));
};

export interface LeaseWaitDeps {
  readonly offsets: OffsetStore;
  readonly invocationId: string;
  readonly nowMs: () => number;
  readonly remainingMs: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** The margin this invocation and its predecessor keep before their deadlines. */
  readonly timeBudgetMarginMs: number;
}

export interface LeaseWait {
  readonly result: LeaseResult;
  /** From the first try to the answer of the last (0 when the first try settled it). */
  readonly waitedMs: number;
  /** `acquireLease` requests made, the first included. */
  readonly tries: number;
}

/**
 * Takes the lease, until this invocation's deadline. With `wait`, a lease held by an
 * invocation that ends within this one's budget is waited for; otherwise, or when the
 * holder outlasts this invocation, the held result is returned.
 */
export const takeLease = async (deps: LeaseWaitDeps, wait: boolean): Promise<LeaseWait> => {
  const startedAt = deps.nowMs();
  // The lease lasts exactly as long as this invocation may live, so a killed invocation's
  // lease frees itself when its time would have run out anyway.
  const deadline = startedAt + deps.remainingMs();
  let result = await deps.offsets.acquireLease(deps.invocationId, deadline, startedAt);
  let tries = 1;
  while (!result.acquired && wait) {
    const expiresAt = result.heldBy.expiresAtMs;
    // An unreleased lease is taken once expired by the holder's clock too (the condition's
    // skew allowance); taken then at the latest, it must leave this invocation time to work.
    const freeAt = expiresAt + LEASE_CLOCK_SKEW_MS + 1;
    if (freeAt > deadline - deps.timeBudgetMarginMs) break;
    await deps.sleep(leasePollDelayMs(deps.nowMs(), expiresAt - deps.timeBudgetMarginMs, freeAt));
    result = await deps.offsets.acquireLease(deps.invocationId, deadline, deps.nowMs());
    tries += 1;
  }
  return { result, waitedMs: tries === 1 ? 0 : deps.nowMs() - startedAt, tries };
};
