import { randomUUID } from 'node:crypto';
import type { AttributeValue, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { GameStatus } from '../domain/game.js';
import type { Game, PendingIntent, RuntimeBinding, StartFlowClaim } from '../domain/game.js';
import { ConflictError, NotFoundError, WriteRejectedError } from '../errors.js';
import { assertTransitionAllowed } from '../domain/transitions.js';
import type { ClaimResult, EntryMarker, GameStore, UpdateStatusInput } from '../ports.js';
import { allOf, conditionFailure, isRejectedRequest, onTable } from './conditional-write.js';
import type { UpdateItemTransport } from './dynamodb-json-transport.js';

const itemExists = 'attribute_exists(gameId)';
const statusIs = '#status = :expected';

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/*
 * The writes below are the consumer's hot path (two or three per entry), so their values
 * are written as DynamoDB attribute values directly instead of going through the document
 * client's marshalling middleware; the request on the wire is the same.
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
  readonly #transport: UpdateItemTransport;
  readonly #tableName: string;

  constructor(transport: UpdateItemTransport, tableName: string) {
    this.#transport = transport;
    this.#tableName = tableName;
  }

  /** One `UpdateItem` on the game's item; a missing table is reported by name. */
  #update(gameId: string, input: Omit<UpdateItemCommandInput, 'TableName' | 'Key'>) {
    return onTable(this.#tableName, () =>
      this.#transport.updateItem({ TableName: this.#tableName, Key: { gameId: S(gameId) }, ...input }),
    );
  }

  async claimForStart(gameId: string, sourceEntryId: string, at: string): Promise<ClaimResult> {
    try {
      const { Attributes } = await this.#update(gameId, {
        UpdateExpression: 'SET startFlowClaim = :claim',
        ConditionExpression: allOf(itemExists, statusIs),
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':claim': stringMap({ sourceEntryId, claimedAt: at }),
          ':expected': S(GameStatus.starting),
        },
        // Both images are read strongly consistently: this is the flow's read.
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      return { claimed: true, game: gameFromItem(Attributes === undefined ? {} : unmarshall(Attributes)) };
    } catch (error) {
      if (isRejectedRequest(error)) throw new WriteRejectedError(gameId, 'start claim', error);
      const found = conditionFailure(error);
      if (found === undefined) throw error;
      if (found === null) throw new NotFoundError(gameId);
      return { claimed: false, game: gameFromItem(found) };
    }
  }

  async updateStatus(input: UpdateStatusInput): Promise<void> {
    const { gameId, transition, at, pendingIntent, sourceEntryId } = input;
    assertTransitionAllowed(transition);
    const writeId = randomUUID();
    const set = ['#status = :to', 'statusChangedAt = :at', 'updatedAt = :at', 'lastTransition = :transition'];
    if (pendingIntent !== undefined) set.push('pendingIntent = :intent');
    await this.#conditionalUpdate(gameId, transition.from, {
      write: `${transition.to} status write`,
      UpdateExpression: `SET ${set.join(', ')} REMOVE startFlowClaim`,
      // An SDK retry of a write DynamoDB applied but whose answer was lost meets its own result.
      isOwnWrite: (found) => isOwnStatusWrite(found, writeId),
      ExpressionAttributeValues: {
        ':to': S(transition.to),
        ':at': S(at),
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
    });
  }

  async saveRuntimeBinding(gameId: string, binding: RuntimeBinding, at: string): Promise<void> {
    await this.#conditionalUpdate(gameId, GameStatus.starting, {
      write: 'runtime binding',
      UpdateExpression: 'SET runtimeBinding = :binding, updatedAt = :at',
      ExpressionAttributeValues: { ':binding': stringMap({ ...binding }), ':at': S(at) },
    });
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

  async #conditionalUpdate(
    gameId: string,
    expectedStatus: string,
    update: {
      /** Names the write in a {@link WriteRejectedError}. */
      write: string;
      UpdateExpression: string;
      ExpressionAttributeValues: Record<string, AttributeValue>;
      isOwnWrite?: (found: Record<string, unknown>) => boolean;
    },
  ): Promise<void> {
    try {
      await this.#update(gameId, {
        UpdateExpression: update.UpdateExpression,
        ConditionExpression: allOf(itemExists, statusIs),
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':expected': S(expectedStatus) },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
    } catch (error) {
      if (isRejectedRequest(error)) throw new WriteRejectedError(gameId, update.write, error);
      const found = conditionFailure(error);
      if (found === undefined) throw error;
      if (found === null) throw new NotFoundError(gameId);
      if (update.isOwnWrite?.(found)) return;
      throw new ConflictError(gameId, expectedStatus, text(found.status) || undefined);
    }
  }
}
