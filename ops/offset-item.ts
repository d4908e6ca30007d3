/**
 * The consumer's item in the offsets table, read whole: the offset and retry counts the
 * consumer works with, plus the lease and the last invocation's summary operators look at.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDbRequest } from '../functions/runtime-job-results/adapters/dynamodb-errors.js';
import { CONSUMER_LABEL, offsetStateOf } from '../functions/runtime-job-results/adapters/dynamodb-offset-store.js';
import type { Lease, OffsetState } from '../functions/runtime-job-results/ports.js';
import type { OpsContext } from './context.js';

export interface OffsetItem {
  /** False before the consumer's first invocation: the offset is then `0-0`. */
  readonly exists: boolean;
  readonly state: OffsetState;
  /** The lease as stored; it may have expired (compare with the clock). */
  readonly lease: Lease | undefined;
  /** `lastInvocation`: the summary the consumer records when it releases the lease. */
  readonly lastInvocation: Readonly<Record<string, string | number>> | undefined;
  readonly updatedAt: string | undefined;
}

const summaryOf = (value: unknown): Record<string, string | number> | undefined => {
  if (typeof value !== 'object' || value === null) return undefined;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).filter(
      (pair): pair is [string, string | number] => typeof pair[1] === 'string' || typeof pair[1] === 'number',
    ),
  );
};

/** A consistent read of the offset item. */
export const readOffsetItem = async (ctx: OpsContext): Promise<OffsetItem> => {
  const table = ctx.dependencies.config.dynamodb.offsetsTable;
  const { Item } = await dynamoDbRequest(table, ctx.dependencies.bounds.dynamodb, (abortSignal) =>
    ctx.documents.send(new GetCommand({ TableName: table, Key: { consumer: CONSUMER_LABEL }, ConsistentRead: true }), {
      abortSignal,
    }),
  );
  const owner: unknown = Item?.leaseOwner;
  const expires: unknown = Item?.leaseExpiresAt;
  return {
    exists: Item !== undefined,
    state: offsetStateOf(Item),
    lease: typeof owner === 'string' ? { owner, expiresAtMs: typeof expires === 'number' ? expires : 0 } : undefined,
    lastInvocation: summaryOf(Item?.lastInvocation),
    updatedAt: typeof Item?.updatedAt === 'string' ? Item.updatedAt : undefined,
  };
};

/** True when the stored lease still runs at `nowMs` (the consumer's condition is `expiresAt < now`). */
export const leaseActive = (lease: Lease | undefined, nowMs: number): lease is Lease =>
  lease !== undefined && lease.expiresAtMs >= nowMs;
