/**
 * Operator writes to the offset are fenced exactly like the consumer's: take the lease on the
 * offset item, write with `commit` (conditioned on holding it), release. An invocation that
 * starts meanwhile finds the lease held and returns at once; one that is running makes the
 * operator wait instead.
 */
import type { OffsetState } from '../functions/runtime-job-results/ports.js';
import type { OpsContext } from './context.js';
import { LeaseHeldError } from './errors.js';

/** Long enough for a read and a write, short enough that a crashed CLI blocks one tick at most. */
const OPERATOR_LEASE_MS = 30_000;

/** Runs `write` with the offset lease held by this operator; throws {@link LeaseHeldError} if taken. */
export const withOperatorLease = async <T>(ctx: OpsContext, write: (state: OffsetState) => Promise<T>): Promise<T> => {
  const { offsets } = ctx.dependencies;
  const now = Date.now();
  const lease = await offsets.acquireLease(ctx.operator, now + OPERATOR_LEASE_MS, now);
  if (!lease.acquired) throw new LeaseHeldError(lease.heldBy.owner, lease.heldBy.expiresAtMs);
  try {
    return await write(lease.state);
  } finally {
    // No summary: `lastInvocation` stays the consumer's.
    await offsets.releaseLease(ctx.operator);
  }
};
