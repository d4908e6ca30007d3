import { randomUUID } from 'node:crypto';
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { GameStatus } from '../domain/game.js';
import type { Game, PendingIntent, RuntimeBinding, StartFlowClaim } from '../domain/game.js';
import { ConflictError, NotFoundError, WriteRejectedError } from '../errors.js';
import { assertTransitionAllowed } from '../domain/transitions.js';
import type { BindResult, EntryMarker, GameStore, UpdateStatusInput } from '../ports.js';
import { allOf, conditionFailure, dynamoDbRequest, isRefusedForGood } from './dynamodb-errors.js';
import type { RequestBounds } from './invocation-deadline.js';

const itemExists = 'attribute_exists(gameId)';
const statusIs = '#status = :expected';

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/*
 * The writes below are the consumer's hot path (two per started game), so their values are
 * written as DynamoDB attribute values on the low-level client rather than marshalled by the
 * document client's middleware; the request on the wire is the same.
 */
const S = (value: string): AttributeValue => ({ S: value });
const stringMap = (values: Readonly<Record<string, string>>): AttributeValue => ({
  M: Object.fromEntries(Object.entries(values).map(([key, value]) => [key, S(value)])),
});

const bindingOf = (value: unknown): RuntimeBinding | undefined => {
  if (typeof value !== 'object' || value === null) return undefined;
  const map = value as Record<string, unknown>;
  return {
    containerId: text(map.containerId),
    engineEndpoint: text(map.engineEndpoint),
    runtimeJobId: text(map.runtimeJobId),
    boundAt: text(map.boundAt),
  };
};

const pendingIntentOf = (value: unknown): PendingIntent | undefined => {
  if (typeof value !== 'object' || value === null) return undefined;
  const map = value as Record<string, unknown>;
  if (typeof map.idempotencyKey !== 'string') return undefined;
  return {
    idempotencyKey: map.idempotencyKey,
    sourceEntryId: text(map.sourceEntryId),
    notificationType: text(map.notificationType),
    occurredAtMs: typeof map.occurredAtMs === 'number' ? map.occurredAtMs : 0,
    payloadJson: text(map.payloadJson),
  };
};

const claimOf = (value: unknown): StartFlowClaim | undefined => {
  if (typeof value !== 'object' || value === null) return undefined;
  const map = value as Record<string, unknown>;
  if (typeof map.sourceEntryId !== 'string') return undefined;
  return { sourceEntryId: map.sourceEntryId, claimedAt: text(map.claimedAt) };
};

/** Maps a stored item to the fields the start flow reads; every other attribute stays untouched. */
const gameFromItem = (item: Record<string, unknown>): Game => {
  const binding = bindingOf(item.runtimeBinding);
  const pendingIntent = pendingIntentOf(item.pendingIntent);
  const startFlowClaim = claimOf(item.startFlowClaim);
  return {
    gameId: text(item.gameId),
    gameName: text(item.gameName),
    status: text(item.status),
    targetEngineVersion: text(item.targetEngineVersion),
    turnSchedule: text(item.turnSchedule),
    ...(binding === undefined ? {} : { runtimeBinding: binding }),
    ...(pendingIntent === undefined ? {} : { pendingIntent }),
    ...(startFlowClaim === undefined ? {} : { startFlowClaim }),
  };
};

/**
 * True when `found` is what this very request left behind: the SDK re-sent a write that
 * DynamoDB had applied. Each call writes a fresh `writeId`, and a retry re-sends the same
 * one, so a later replay of the entry (a new call) is never taken for its own write.
 */
const isOwnStatusWrite = (found: Record<string, unknown>, writeId: string): boolean =>
  (found.lastTransition as Record<string, unknown> | undefined)?.writeId === writeId;

/**
 * The games table. Every status write is a compare-and-set (`UpdateItem` conditioned on the
 * item existing and `status` equalling the expected value); only the attributes named here
 * are written, so attributes owned by Lobby survive.
 */
export class DynamoDbGameStore implements GameStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;
  readonly #bounds: RequestBounds;

  constructor(client: DynamoDBClient, tableName: string, bounds: RequestBounds) {
    this.#client = client;
    this.#tableName = tableName;
    this.#bounds = bounds;
  }

  /** One `UpdateItem` on the game's item, bounded, with the table named when it does not exist. */
  #update(gameId: string, input: Omit<UpdateItemCommandInput, 'TableName' | 'Key'>) {
    return dynamoDbRequest(this.#tableName, this.#bounds, (abortSignal) =>
      this.#client.send(new UpdateItemCommand({ TableName: this.#tableName, Key: { gameId: S(gameId) }, ...input }), {
        abortSignal,
      }),
    );
  }

  async bindRuntime(gameId: string, binding: RuntimeBinding, at: string): Promise<BindResult> {
    try {
      const { Attributes } = await this.#update(gameId, {
        UpdateExpression: 'SET runtimeBinding = :binding, updatedAt = :at',
        ConditionExpression: allOf(itemExists, statusIs),
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':binding': stringMap({ ...binding }),
          ':at': S(at),
          ':expected': S(GameStatus.starting),
        },
        // Both images are read strongly consistently: this write is also the flow's read.
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      return { bound: true, game: gameFromItem(Attributes === undefined ? {} : unmarshall(Attributes)) };
    } catch (error) {
      if (isRefusedForGood(error)) throw new WriteRejectedError(gameId, 'runtime binding', error);
      const found = conditionFailure(error);
      if (found === undefined) throw error;
      if (found === null) throw new NotFoundError(gameId);
      return { bound: false, game: gameFromItem(found) };
    }
  }

  async getGame(gameId: string): Promise<Game> {
    const { Item } = await dynamoDbRequest(this.#tableName, this.#bounds, (abortSignal) =>
      this.#client.send(
        new GetItemCommand({ TableName: this.#tableName, Key: { gameId: S(gameId) }, ConsistentRead: true }),
        { abortSignal },
      ),
    );
    if (Item === undefined) throw new NotFoundError(gameId);
    return gameFromItem(unmarshall(Item));
  }

  async updateStatus(input: UpdateStatusInput): Promise<void> {
    const { gameId, transition, at, pendingIntent, sourceEntryId } = input;
    assertTransitionAllowed(transition);
    const writeId = randomUUID();
    const set = ['#status = :to', 'statusChangedAt = :at', 'updatedAt = :at', 'lastTransition = :transition'];
    if (pendingIntent !== undefined) set.push('pendingIntent = :intent');
    try {
      await this.#update(gameId, {
        // A start claim left by an interrupted start flow of an earlier release ends with the flow.
        UpdateExpression: `SET ${set.join(', ')} REMOVE startFlowClaim`,
        ConditionExpression: allOf(itemExists, statusIs),
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':to': S(transition.to),
          ':at': S(at),
          ':expected': S(transition.from),
          ':transition': stringMap({
            from: transition.from,
            to: transition.to,
            trigger: transition.trigger,
            at,
            writeId,
            ...(sourceEntryId === undefined ? {} : { sourceEntryId }),
          }),
          ...(pendingIntent === undefined
            ? {}
            : { ':intent': { M: marshall(pendingIntent, { removeUndefinedValues: true }) } }),
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
    } catch (error) {
      if (isRefusedForGood(error)) throw new WriteRejectedError(gameId, `${transition.to} status write`, error);
      const found = conditionFailure(error);
      if (found === undefined) throw error;
      if (found === null) throw new NotFoundError(gameId);
      // An SDK retry of a write DynamoDB applied but whose answer was lost meets its own result.
      if (isOwnStatusWrite(found, writeId)) return;
      throw new ConflictError(gameId, transition.from, text(found.status) || undefined);
    }
  }

  async clearMarker(gameId: string, marker: EntryMarker, sourceEntryId: string): Promise<void> {
    try {
      await this.#update(gameId, {
        UpdateExpression: 'REMOVE #marker',
        ConditionExpression: '#marker.sourceEntryId = :entry',
        ExpressionAttributeNames: { '#marker': marker },
        ExpressionAttributeValues: { ':entry': S(sourceEntryId) },
      });
    } catch (error) {
      // Already cleared, or replaced by a newer entry's: nothing of ours left to remove.
      if (conditionFailure(error) === undefined) throw error;
    }
  }
}
