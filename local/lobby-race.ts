/**
 * Lobby changing a game behind the consumer's back, at a chosen request of the consumer's:
 * the race that makes the orphan-container path happen. The demo, the tests and the soak
 * share these matchers, so the knowledge of what the consumer's writes look like on the wire
 * lives in one place.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { forward, gameIdOf } from './dynamodb-proxy.js';
import type { DynamoDbCall, ProxyHook } from './dynamodb-proxy.js';

const isGameUpdate = (call: DynamoDbCall, gameId: string | undefined): boolean =>
  call.operation === 'UpdateItem' && (gameId === undefined || gameIdOf(call) === gameId);

/** The consumer's binding write (of `gameId`, or of any game). */
export const isBindingWrite = (call: DynamoDbCall, gameId?: string): boolean =>
  isGameUpdate(call, gameId) && String(call.body.UpdateExpression ?? '').includes('runtimeBinding');

/** A consumer status compare-and-set (to `to`, if given) of `gameId`, or of any game. */
export const isStatusWrite = (call: DynamoDbCall, gameId?: string, to?: string): boolean =>
  isGameUpdate(call, gameId) &&
  String(call.body.UpdateExpression ?? '').includes('#status = :to') &&
  (to === undefined ||
    JSON.stringify((call.body.ExpressionAttributeValues as Record<string, unknown> | undefined)?.[':to']) ===
      JSON.stringify({ S: to }));

/** Lobby's own write: sets the status of `gameId`, whatever it was. */
export const setGameStatus = async (
  documents: DynamoDBDocumentClient,
  gamesTable: string,
  gameId: string,
  status: string,
): Promise<void> => {
  await documents.send(
    new UpdateCommand({
      TableName: gamesTable,
      Key: { gameId },
      UpdateExpression: 'SET #status = :status',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':status': status },
    }),
  );
};

/** A proxy hook: Lobby cancels `gameId` just before each consumer request that `matches`. */
export const cancelBefore =
  (
    documents: DynamoDBDocumentClient,
    gamesTable: string,
    gameId: string,
    matches: (call: DynamoDbCall) => boolean,
  ): ProxyHook =>
  (call) =>
    gameIdOf(call) === gameId && matches(call)
      ? { kind: 'forward', before: () => setGameStatus(documents, gamesTable, gameId, 'cancelled') }
      : forward;
