/**
 * Where a soak run ended: every game item, every message on the output streams, the offset
 * item, Game Master's recorded calls and the transitions counted at the proxy. Read past
 * the proxies, so no fault touches the inspection.
 */
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { GamesTap } from './games-tap.js';
import type { RunResources } from './run-resources.js';

export interface StreamMessage {
  readonly id: string;
  /** A map without a prototype: field names such as `__proto__` are plain keys. */
  readonly fields: Readonly<Record<string, string>>;
}

export interface RunState {
  readonly games: ReadonlyMap<string, Record<string, unknown>>;
  readonly stopJobs: readonly StreamMessage[];
  readonly intents: readonly StreamMessage[];
  readonly deadLetters: readonly StreamMessage[];
  readonly offset: Record<string, unknown> | undefined;
  /** `Idempotency-Key` of every registration Game Master received, by game. */
  readonly gameMasterKeys: ReadonlyMap<string, readonly string[]>;
  readonly transitions: ReadonlyMap<string, number>;
}

/** Reads a whole stream, raw values (the client was built without deserialization). */
const readStream = async (resources: RunResources, key: string): Promise<StreamMessage[]> => {
  const reply = (await resources.redis.exec(['XRANGE', key, '-', '+'])) as [string, string[]][];
  return reply.map(([id, flat]) => {
    const fields = Object.create(null) as Record<string, string>;
    flat.forEach((part, index) => {
      if (index % 2 === 1) fields[flat[index - 1] as string] = part;
    });
    return { id, fields };
  });
};

/** The offset item, read consistently. */
export const readOffsetItem = async (resources: RunResources): Promise<Record<string, unknown> | undefined> =>
  (
    await resources.documents.send(
      new GetCommand({ TableName: resources.offsetsTable, Key: { consumer: 'runtime_results' }, ConsistentRead: true }),
    )
  ).Item;

const scanGames = async (resources: RunResources): Promise<Map<string, Record<string, unknown>>> => {
  const games = new Map<string, Record<string, unknown>>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await resources.documents.send(
      new ScanCommand({ TableName: resources.gamesTable, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    for (const item of page.Items ?? []) games.set(String(item.gameId), item);
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return games;
};

export const collectRunState = async (resources: RunResources, tap: GamesTap): Promise<RunState> => {
  const gameMasterKeys = new Map<string, string[]>();
  for (const call of resources.gameMaster.calls()) {
    if (call.gameId === undefined) continue;
    const keys = gameMasterKeys.get(call.gameId) ?? [];
    keys.push(call.headers['idempotency-key'] ?? '');
    gameMasterKeys.set(call.gameId, keys);
  }
  const [games, stopJobs, intents, deadLetters, offset] = await Promise.all([
    scanGames(resources),
    readStream(resources, resources.streams.stopJobs),
    readStream(resources, resources.streams.notificationIntents),
    readStream(resources, resources.streams.deadLetters),
    readOffsetItem(resources),
  ]);
  return { games, stopJobs, intents, deadLetters, offset, gameMasterKeys, transitions: new Map(tap.transitions()) };
};
