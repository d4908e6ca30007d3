/**
 * What one soak run works on: its own tables, stream keys and Game Master stub, a DynamoDB
 * proxy the run steers, and the backlog of the scenario seeded into them. Two runs of one
 * scenario get the same games, the same entries and the same entry ids.
 */
import { randomBytes } from 'node:crypto';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Redis } from '@upstash/redis';
import { consumerEnv, prefixedStreams } from '../local/consumer-env.js';
import type { StreamNames } from '../functions/runtime-job-results/environment.js';
import { startDynamoDbProxy } from '../local/dynamodb-proxy.js';
import type { DynamoDbProxy } from '../local/dynamodb-proxy.js';
import { startGameMasterStub } from '../local/game-master-stub.js';
import type { GameMasterStub } from '../local/game-master-stub.js';
import { localDynamoDbClient } from '../local/tables.js';
import type { Scenario } from './scenario.js';

/** The running services a soak uses, and how it gets fresh tables from them. */
export interface SoakStack {
  readonly dynamodbEndpoint: string;
  readonly upstashUrl: string;
  readonly upstashToken: string;
  /** Fresh games and offsets tables; `cleanup` deletes them. */
  createTables(): Promise<{ gamesTable: string; offsetsTable: string; cleanup(): Promise<void> }>;
}

export type SoakStreams = StreamNames;

export interface RunResources {
  readonly label: string;
  /** The handler's environment, pointing at DynamoDB through {@link dynamodbProxy}. */
  readonly env: Record<string, string>;
  readonly streams: SoakStreams;
  readonly gamesTable: string;
  readonly offsetsTable: string;
  /** Straight to DynamoDB Local, past the proxy: for seeding, racing writes and inspection. */
  readonly documents: DynamoDBDocumentClient;
  /** Straight to the Upstash-compatible server, raw values. */
  readonly redis: Redis;
  readonly gameMaster: GameMasterStub;
  readonly dynamodbProxy: DynamoDbProxy;
  cleanup(): Promise<void>;
}

/**
 * Consumer settings of both runs. MAX_ATTEMPTS is the highest the configuration allows, so
 * injected faults can only delay an entry, never exhaust its retries: then any
 * `retries_exhausted` dead letter is a finding, not noise.
 */
const SOAK_CONSUMER_ENV: Readonly<Record<string, string>> = {
  MAX_ATTEMPTS: '100',
  ATTEMPTS_PER_INVOCATION: '3',
  RETRY_BACKOFF_MS: '20',
  GM_TIMEOUT_MS: '1000',
  UPSTASH_TIMEOUT_MS: '3000',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};

const WRITE_BATCH = 25;
const XADD_BATCH = 200;

/** Creates a run's tables, streams and stub and seeds the scenario's games and entries. */
export const prepareRun = async (stack: SoakStack, scenario: Scenario, label: string): Promise<RunResources> => {
  const tables = await stack.createTables();
  const dynamodb = localDynamoDbClient(stack.dynamodbEndpoint);
  const documents = DynamoDBDocumentClient.from(dynamodb);
  const redis = new Redis({
    url: stack.upstashUrl,
    token: stack.upstashToken,
    automaticDeserialization: false,
    enableTelemetry: false,
  });
  const gameMaster = await startGameMasterStub();
  const dynamodbProxy = await startDynamoDbProxy(stack.dynamodbEndpoint);
  const prefix = `soak-${label}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const streams = prefixedStreams(prefix);

  const stored = scenario.games.filter((game) => game.initialStatus !== undefined);
  for (let i = 0; i < stored.length; i += WRITE_BATCH) {
    const items = stored.slice(i, i + WRITE_BATCH).map((game) => ({
      PutRequest: {
        Item: {
          gameId: game.gameId,
          gameName: `Soak ${game.gameId}`,
          status: game.initialStatus,
          targetEngineVersion: '1.9.0',
          turnSchedule: '0 */6 * * *',
          ownedByLobby: 'kept as it is',
        },
      },
    }));
    let unprocessed: Record<string, unknown>[] | undefined = items;
    while (unprocessed !== undefined && unprocessed.length > 0) {
      const answer = await documents.send(
        new BatchWriteCommand({ RequestItems: { [tables.gamesTable]: unprocessed } }),
      );
      unprocessed = answer.UnprocessedItems?.[tables.gamesTable] as Record<string, unknown>[] | undefined;
    }
  }
  for (const game of scenario.games) gameMaster.setBehaviour(game.gameId, game.gameMaster);
  for (let i = 0; i < scenario.entries.length; i += XADD_BATCH) {
    const pipeline = redis.pipeline();
    for (const entry of scenario.entries.slice(i, i + XADD_BATCH)) {
      pipeline.xadd(streams.results, entry.id, Object.fromEntries(entry.fields));
    }
    await pipeline.exec();
  }

  return {
    label,
    env: {
      ...SOAK_CONSUMER_ENV,
      ...consumerEnv({
        streams,
        upstash: { url: stack.upstashUrl, token: stack.upstashToken },
        gamesTable: tables.gamesTable,
        offsetsTable: tables.offsetsTable,
        dynamodbEndpoint: dynamodbProxy.endpoint,
        gameMasterUrl: gameMaster.baseUrl,
      }),
    },
    streams,
    gamesTable: tables.gamesTable,
    offsetsTable: tables.offsetsTable,
    documents,
    redis,
    gameMaster,
    dynamodbProxy,
    cleanup: async () => {
      await redis.exec(['DEL', ...Object.values(streams)]);
      await Promise.all([gameMaster.close(), dynamodbProxy.close()]);
      await tables.cleanup();
      dynamodb.destroy();
    },
  };
};
