/**
 * Operator writes to the offset are fenced exactly like the consumer's: take the lease on the
 * offset item, write with `commit` (conditioned on holding it), release. A lease held by a
 * following invocation is asked for the way the next invocation asks (docs/contract.md §6.5):
 * the follower hands over at its next poll, and the next scheduled invocation resumes from
 * the offset the operator wrote. An invocation that starts meanwhile finds the lease held.
 */
import type { OffsetState } from '../functions/runtime-job-results/ports.js';
import type { OpsContext } from './context.js';
import { LeaseHeldError } from './errors.js';

/** Long enough for a read and a write, short enough that a crashed CLI blocks one tick at most. */
const OPERATOR_LEASE_MS = 30_000;

/** How long the CLI waits for a held lease by default: a follower answers within about a second. */
export const DEFAULT_LEASE_WAIT_MS = 15_000;

/** Between two tries to take an asked-for lease. */
const LEASE_TRY_EVERY_MS = 200;

export interface OperatorLeaseOptions {
  /** How long to wait for a held lease, asking its holder for it; 0 fails at once. */
  readonly leaseWaitMs?: number;
}

/**
 * Runs `write` with the offset lease held by this operator. A held lease is asked for and
 * waited on for `leaseWaitMs`; still held then, it throws {@link LeaseHeldError}.
 */
export const withOperatorLease = async <T>(
  ctx: OpsContext,
  write: (state: OffsetState) => Promise<T>,
  options: OperatorLeaseOptions = {},
): Promise<T> => {
  const { offsets, stream } = ctx.dependencies;
  const waitMs = options.leaseWaitMs ?? DEFAULT_LEASE_WAIT_MS;
  const startedAt = Date.now();
  const take = () => {
    const now = Date.now();
    return offsets.acquireLease(ctx.operator, now + OPERATOR_LEASE_MS, now);
  };
  let lease = await take();
  if (!lease.acquired && waitMs > 0) {
    ctx.output.notice(
      `the offset lease is held by ${lease.heldBy.owner}: asking it to hand over (up to ${waitMs / 1_000} s)`,
    );
    await stream.askForLease({ by: ctx.operator, startedAtMs: startedAt }, waitMs);
    while (!lease.acquired && Date.now() - startedAt < waitMs) {
      await new Promise((resolve) => setTimeout(resolve, LEASE_TRY_EVERY_MS));
      lease = await take();
    }
  }
  if (!lease.acquired) throw new LeaseHeldError(lease.heldBy.owner, lease.heldBy.expiresAtMs);
  try {
    return await write(lease.state);
  } finally {
    // No summary: `lastInvocation` stays the consumer's.
    await offsets.releaseLease(ctx.operator);
  }
};
