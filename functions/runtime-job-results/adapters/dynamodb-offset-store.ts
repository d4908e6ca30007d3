import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient, UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { STREAM_START } from '../domain/entry-id.js';
import type { EntryAttempts, EntryRange, LeaseResult, OffsetState, OffsetStore } from '../ports.js';
import { conditionFailure, dynamoDbRequest } from './dynamodb-errors.js';
import type { RequestBounds } from './invocation-deadline.js';
import { LeaseLostError } from '../errors.js';

/**
 * How long past its expiry a lease still counts as held. The expiry is written from the
 * holder's clock and compared with the taker's; Lambda hosts keep their clocks within
 * milliseconds of each other, so 2 s covers any real skew with room to spare and costs a
 * crashed holder's successor only those 2 s.
 */
export const LEASE_CLOCK_SKEW_MS = 2_000;

/** The Go worker's label for this consumer (docs/contract.md §3.3); stable when the stream key is renamed. */
export const CONSUMER_LABEL = 'runtime_results';

const attemptsOf = (value: unknown): Record<string, EntryAttempts> => {
  const attempts: Record<string, EntryAttempts> = {};
  if (typeof value !== 'object' || value === null) return attempts;
  for (const [entryId, row] of Object.entries(value as Record<string, unknown>)) {
    if (typeof row !== 'object' || row === null) continue;
    const { attempts: count, lastError, pendingStopJob, givingUp } = row as Record<string, unknown>;
    if (typeof count !== 'number') continue;
    attempts[entryId] = {
      attempts: count,
      lastError: typeof lastError === 'string' ? lastError : '',
      ...(pendingStopJob === true ? { pendingStopJob: true } : {}),
      ...(givingUp === true ? { givingUp: true } : {}),
    };
  }
  return attempts;
};

/** Ranges are stored compactly as strings: `"<first>..<last>"`, or `"<id>"` for one entry. */
const RANGE_SEPARATOR = '..';

const finishedOf = (value: unknown): EntryRange[] =>
  Array.isArray(value)
    ? value.flatMap((text: unknown): EntryRange[] => {
        if (typeof text !== 'string' || text === '') return [];
        const [first = text, last = first] = text.split(RANGE_SEPARATOR);
        return [{ first, last }];
      })
    : [];

const finishedText = (ranges: readonly EntryRange[]): string[] =>
  ranges.map(({ first, last }) => (first === last ? first : `${first}${RANGE_SEPARATOR}${last}`));

/** A lease the store did not write: an owner that is not a string, or an expiry that is not a number. */
const isMalformedLease = (item: Record<string, unknown>): boolean =>
  'leaseOwner' in item && (typeof item.leaseOwner !== 'string' || typeof item.leaseExpiresAt !== 'number');

/** Reads the offset item's state; a new consumer starts at `0-0`, as the Go worker did. */
export const offsetStateOf = (item: Record<string, unknown> | undefined): OffsetState => {
  const finished = finishedOf(item?.finished);
  return {
    lastEntryId: typeof item?.lastEntryId === 'string' ? item.lastEntryId : STREAM_START,
    attempts: attemptsOf(item?.attempts),
    ...(finished.length > 0 ? { finished } : {}),
  };
};

/**
 * One item per consumer in the offsets table: `lastEntryId`, the retry counts of entries
 * that failed transiently, the entries finished above the offset (`finished`), and a lease (`leaseOwner`, `leaseExpiresAt` in epoch ms) that
 * keeps overlapping invocations apart. Every offset write is conditioned on the lease.
 */
export class DynamoDbOffsetStore implements OffsetStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #bounds: RequestBounds;
  readonly #consumer: string;

  constructor(client: DynamoDBDocumentClient, tableName: string, bounds: RequestBounds, consumer = CONSUMER_LABEL) {
    this.#client = client;
    this.#tableName = tableName;
    this.#bounds = bounds;
    this.#consumer = consumer;
  }

  /** One `UpdateItem` on this consumer's item, bounded, with the table named when it does not exist. */
  #update(input: Omit<UpdateCommandInput, 'TableName' | 'Key'>) {
    return dynamoDbRequest(this.#tableName, this.#bounds, (abortSignal) =>
      this.#client.send(
        new UpdateCommand({ TableName: this.#tableName, Key: { consumer: this.#consumer }, ...input }),
        { abortSignal },
      ),
    );
  }

  async acquireLease(owner: string, expiresAtMs: number, nowMs: number): Promise<LeaseResult> {
    try {
      // One request takes the lease and reads the offset: the item is created on first use.
      // The offset's attributes are not written, so the item as it was holds them.
      const { Attributes } = await this.#update({
        UpdateExpression: 'SET leaseOwner = :owner, leaseExpiresAt = :expires',
        // A lease whose owner or expiry is not what this store writes (an item edited by hand)
        // is replaced rather than waited on: it could never expire.
        ConditionExpression:
          'attribute_not_exists(leaseOwner) OR leaseExpiresAt < :now OR NOT attribute_type(leaseExpiresAt, :number) ' +
          'OR NOT attribute_type(leaseOwner, :string)',
        ExpressionAttributeValues: {
          ':owner': owner,
          ':expires': expiresAtMs,
          // Expired by the holder's clock even if the holder's runs behind ours.
          ':now': nowMs - LEASE_CLOCK_SKEW_MS,
          ':number': 'N',
          ':string': 'S',
        },
        ReturnValues: 'ALL_OLD',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      return {
        acquired: true,
        state: offsetStateOf(Attributes),
        ...(Attributes !== undefined && isMalformedLease(Attributes)
          ? { replacedMalformed: { owner: Attributes.leaseOwner, expiresAt: Attributes.leaseExpiresAt } }
          : {}),
      };
    } catch (error) {
      const found = conditionFailure(error);
      if (found === undefined) throw error;
      // An SDK retry of a lease write DynamoDB applied but whose answer was lost: it is ours.
      if (found?.leaseOwner === owner) return { acquired: true, state: offsetStateOf(found) };
      return {
        acquired: false,
        state: offsetStateOf(found ?? undefined),
        heldBy: {
          owner: typeof found?.leaseOwner === 'string' ? found.leaseOwner : 'unknown',
          expiresAtMs: typeof found?.leaseExpiresAt === 'number' ? found.leaseExpiresAt : 0,
        },
      };
    }
  }

  async commit(owner: string, state: OffsetState): Promise<void> {
    const finished = state.finished ?? [];
    try {
      await this.#update({
        // The finished entries go in the same write as the offset: one cannot move without the other.
        UpdateExpression: `SET lastEntryId = :id, attempts = :attempts, updatedAt = :at${
          finished.length > 0 ? ', finished = :finished' : ' REMOVE finished'
        }`,
        ConditionExpression: 'leaseOwner = :owner',
        ExpressionAttributeValues: {
          ':id': state.lastEntryId,
          ':attempts': state.attempts,
          ':at': new Date().toISOString(),
          ':owner': owner,
          ...(finished.length > 0 ? { ':finished': finishedText(finished) } : {}),
        },
      });
    } catch (error) {
      if (conditionFailure(error) === undefined) throw error;
      throw new LeaseLostError(owner, { cause: error });
    }
  }

  async releaseLease(owner: string, lastInvocation?: Readonly<Record<string, string | number>>): Promise<void> {
    try {
      await this.#update({
        UpdateExpression: `REMOVE leaseOwner, leaseExpiresAt${lastInvocation ? ' SET lastInvocation = :summary' : ''}`,
        ConditionExpression: 'leaseOwner = :owner',
        ExpressionAttributeValues: {
          ':owner': owner,
          ...(lastInvocation ? { ':summary': { ...lastInvocation, at: new Date().toISOString() } } : {}),
        },
      });
    } catch (error) {
      // Someone took over after our lease ran out; theirs is not ours to release.
      if (conditionFailure(error) === undefined) throw error;
    }
  }
}
