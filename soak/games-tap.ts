/**
 * Steps into the games-table traffic at the DynamoDB proxy for a soak run: refuses the orphan
 * games' binding for good (as DynamoDB does an item that would pass 400 KB), plays Lobby
 * cancelling the cancelled games right before their binding write, and counts the status
 * changes that really happened, per game — so "no transition applied twice" is measured
 * where the writes are, not taken from the consumer's own word.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { gameIdOf, refusedForGood } from '../local/dynamodb-proxy.js';
import type { DynamoDbCall, ProxyAction } from '../local/dynamodb-proxy.js';
import { isBindingWrite, isStatusWrite } from '../local/lobby-race.js';

export interface GamesTap {
  /** Wraps a forwarded games-table request with the race and the transition count. */
  decorate(call: DynamoDbCall, action: ProxyAction): ProxyAction;
  /** Status changes applied so far, by game. */
  transitions(): ReadonlyMap<string, number>;
  /** Games Lobby has cancelled so far. */
  cancelled(): ReadonlySet<string>;
}

export interface GamesTapOptions {
  readonly documents: DynamoDBDocumentClient;
  readonly gamesTable: string;
  /** Games whose binding DynamoDB refuses for good: the orphan path. */
  readonly orphanGameIds: ReadonlySet<string>;
  /** Games Lobby cancels right before the consumer's binding write. */
  readonly cancelledGameIds: ReadonlySet<string>;
}

const valuesOf = (call: DynamoDbCall): Record<string, unknown> => {
  const raw = call.body.ExpressionAttributeValues as Record<string, AttributeValue> | undefined;
  return raw === undefined ? {} : unmarshall(raw);
};

const chain =
  (...steps: ((() => Promise<void>) | undefined)[]): (() => Promise<void>) =>
  async () => {
    for (const step of steps) await step?.();
  };

export const createGamesTap = (options: GamesTapOptions): GamesTap => {
  const { documents, gamesTable, orphanGameIds, cancelledGameIds } = options;
  const transitions = new Map<string, number>();
  const cancelled = new Set<string>();

  const statusOf = async (gameId: string): Promise<Record<string, unknown> | undefined> =>
    (await documents.send(new GetCommand({ TableName: gamesTable, Key: { gameId }, ConsistentRead: true }))).Item;

  const cancel = (gameId: string) => async (): Promise<void> => {
    if (cancelled.has(gameId)) return;
    cancelled.add(gameId);
    try {
      await documents.send(
        new UpdateCommand({
          TableName: gamesTable,
          Key: { gameId },
          UpdateExpression: 'SET #status = :cancelled',
          ConditionExpression: '#status = :starting',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':cancelled': 'cancelled', ':starting': 'starting' },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  };

  return {
    decorate: (call, action) => {
      if (action.kind !== 'forward' || call.tableName !== gamesTable) return action;
      const gameId = gameIdOf(call);
      if (gameId === undefined) return action;
      if (isBindingWrite(call) && orphanGameIds.has(gameId)) return refusedForGood;
      const race = isBindingWrite(call) && cancelledGameIds.has(gameId) ? cancel(gameId) : undefined;
      let observedBefore: string | undefined;
      const values = isStatusWrite(call) ? valuesOf(call) : undefined;
      const countBefore = values
        ? async (): Promise<void> => {
            observedBefore = String((await statusOf(gameId))?.status);
          }
        : undefined;
      const countAfter = values
        ? async (): Promise<void> => {
            const item = await statusOf(gameId);
            const last = item?.lastTransition as Record<string, unknown> | undefined;
            const transition = values[':transition'] as Record<string, unknown> | undefined;
            // This very request moved the status: it was the expected one just before, and
            // the item now carries the transition record this request wrote.
            if (
              observedBefore === values[':expected'] &&
              item?.status === values[':to'] &&
              last?.at === transition?.at &&
              last?.sourceEntryId === transition?.sourceEntryId &&
              last?.writeId === transition?.writeId
            ) {
              transitions.set(gameId, (transitions.get(gameId) ?? 0) + 1);
            }
          }
        : undefined;
      return {
        kind: 'forward',
        ...(action.delayMs === undefined ? {} : { delayMs: action.delayMs }),
        before: chain(race, countBefore, action.before),
        after: chain(countAfter, action.after),
      };
    },
    transitions: () => transitions,
    cancelled: () => cancelled,
  };
};
