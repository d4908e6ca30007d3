/**
 * One integration fixture: fresh tables, fresh stream keys, a Game Master stub and a
 * DynamoDB proxy for this test file, and the real handler wired to them through the
 * project's Upstash-compatible server with the official `@upstash/redis` client.
 */
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Redis } from '@upstash/redis';
import { createHandler } from '../../functions/runtime-job-results/create-handler.js';
import type { HandlerOptions } from '../../functions/runtime-job-results/create-handler.js';
import type { InvocationSummary } from '../../functions/runtime-job-results/consumer/run-invocation.js';
import type { StreamNames } from '../../functions/runtime-job-results/environment.js';
import { consumerEnv, prefixedStreams } from '../../local/consumer-env.js';
import { startDynamoDbProxy } from '../../local/dynamodb-proxy.js';
import type { DynamoDbProxy } from '../../local/dynamodb-proxy.js';
import type { GameMasterStub } from '../../local/game-master-stub.js';
import { lambdaContext, scheduledEvent } from '../../scripts/support/lambda-context.js';
import { createTestTables, startTestGameMaster, testStack, uniqueName } from './stack.js';

export interface StreamMessage {
  readonly id: string;
  readonly fields: Record<string, string>;
}

export interface Harness {
  readonly env: Record<string, string>;
  readonly streams: StreamNames;
  readonly gamesTable: string;
  readonly offsetsTable: string;
  readonly documents: DynamoDBDocumentClient;
  readonly redis: Redis;
  readonly gameMaster: GameMasterStub;
  readonly proxy: DynamoDbProxy;
  putGame(game: { gameId: string; status: string } & Record<string, unknown>): Promise<void>;
  getGame(gameId: string): Promise<Record<string, unknown> | undefined>;
  addResult(fields: Record<string, string>, id?: string): Promise<string>;
  read(stream: string): Promise<StreamMessage[]>;
  offsetItem(): Promise<Record<string, unknown> | undefined>;
  invoke(options?: {
    timeoutMs?: number;
    env?: Record<string, string>;
    handler?: HandlerOptions;
  }): Promise<InvocationSummary>;
  cleanup(): Promise<void>;
}

/** Parses a raw XRANGE reply into messages with field maps (last value wins). */
const messagesOf = (reply: unknown): StreamMessage[] =>
  (reply as [string, string[]][]).map(([id, flat]) => {
    const fields: Record<string, string> = Object.create(null) as Record<string, string>;
    for (let i = 0; i < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
    return { id, fields };
  });

export const createHarness = async (overrides: Record<string, string> = {}): Promise<Harness> => {
  const stack = testStack();
  const tables = await createTestTables();
  const gameMaster = await startTestGameMaster();
  const proxy = await startDynamoDbProxy(stack.dynamodbEndpoint);
  const streams = prefixedStreams(uniqueName('it'));
  const env: Record<string, string> = {
    ...consumerEnv({
      streams,
      upstash: { url: stack.upstashUrl, token: stack.upstashToken },
      gamesTable: tables.gamesTable,
      offsetsTable: tables.offsetsTable,
      dynamodbEndpoint: proxy.endpoint,
      gameMasterUrl: gameMaster.baseUrl,
    }),
    GM_TIMEOUT_MS: '1000',
    RETRY_BACKOFF_MS: '10',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    ...overrides,
  };
  const documents = DynamoDBDocumentClient.from(tables.dynamodb);
  const redis = new Redis({ url: stack.upstashUrl, token: stack.upstashToken, automaticDeserialization: false });
  const handler = createHandler(env);

  return {
    env,
    streams,
    gamesTable: tables.gamesTable,
    offsetsTable: tables.offsetsTable,
    documents,
    redis,
    gameMaster,
    proxy,
    putGame: async (game) => {
      await documents.send(
        new PutCommand({
          TableName: tables.gamesTable,
          Item: { gameName: `Game ${game.gameId}`, targetEngineVersion: '1.4.2', turnSchedule: '0 */6 * * *', ...game },
        }),
      );
    },
    getGame: async (gameId) =>
      (await documents.send(new GetCommand({ TableName: tables.gamesTable, Key: { gameId }, ConsistentRead: true })))
        .Item,
    addResult: async (fields, id = '*') =>
      String(await redis.exec(['XADD', streams.results, id, ...Object.entries(fields).flat()])),
    read: async (stream) => messagesOf(await redis.exec(['XRANGE', stream, '-', '+'])),
    offsetItem: async () =>
      (
        await documents.send(
          new GetCommand({
            TableName: tables.offsetsTable,
            Key: { consumer: 'runtime_results' },
            ConsistentRead: true,
          }),
        )
      ).Item,
    invoke: async (options = {}) => {
      const run = options.env || options.handler ? createHandler({ ...env, ...options.env }, options.handler) : handler;
      return run(scheduledEvent(), lambdaContext(options.timeoutMs ?? 60_000));
    },
    cleanup: async () => {
      await redis.exec(['DEL', ...Object.values(streams)]);
      await Promise.all([gameMaster.close(), proxy.close()]);
      await tables.cleanup();
    },
  };
};
