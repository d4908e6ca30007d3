/**
 * What a test file needs from the local stack started once by test/global-setup.ts, plus
 * per-file resources (tables, Game Master stub) so that test files can run in parallel.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { startGameMasterStub } from '../../local/game-master-stub.js';
import type { GameMasterStub, GameMasterStubOptions } from '../../local/game-master-stub.js';
import { createGamesTable, createOffsetsTable, deleteTable, localDynamoDbClient } from '../../local/tables.js';

declare module 'vitest' {
  /** Values test/global-setup.ts provides to every test worker. */
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    upstashUrl: string;
    upstashToken: string;
    redisHost: string;
    redisPort: number;
    /** redis-server's password: it refuses clients without it. */
    redisPassword: string;
    /** The Game Master stub of the global-setup process: tests cannot steer it, see {@link startTestGameMaster}. */
    gameMasterUrl: string;
  }
}

/** Where the shared local stack of this test run listens. */
export interface TestStack {
  dynamodbEndpoint: string;
  upstashUrl: string;
  upstashToken: string;
  redisHost: string;
  redisPort: number;
  redisPassword: string;
}

/** The shared stack's endpoints, as provided by the global setup. */
export function testStack(): TestStack {
  return {
    dynamodbEndpoint: inject('dynamodbEndpoint'),
    upstashUrl: inject('upstashUrl'),
    upstashToken: inject('upstashToken'),
    redisHost: inject('redisHost'),
    redisPort: inject('redisPort'),
    redisPassword: inject('redisPassword'),
  };
}

/**
 * Starts a Game Master stub in this test worker, so the test can set behaviours and read
 * the recorded calls (the global one lives in another process). Close it in `afterAll`.
 */
export async function startTestGameMaster(options?: GameMasterStubOptions): Promise<GameMasterStub> {
  return startGameMasterStub(options);
}

/**
 * `prefix` plus the worker's pid and a random suffix: unique across parallel test files and
 * runs. Only letters, digits, `-`, `_` and `.`, so it is valid as a DynamoDB table name and
 * needs no quoting as a Redis key.
 */
export function uniqueName(prefix: string): string {
  const safePrefix = prefix.replace(/[^A-Za-z0-9_.-]/g, '-');
  return `${safePrefix}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Fresh games and offsets tables for one test file. */
export interface TestTables {
  gamesTable: string;
  offsetsTable: string;
  /** A client for DynamoDB Local (not through any proxy). */
  dynamodb: DynamoDBClient;
  /** Deletes both tables and releases the client. */
  cleanup(): Promise<void>;
}

/** Creates uniquely named games and offsets tables in the shared DynamoDB Local. */
export async function createTestTables(): Promise<TestTables> {
  const dynamodb = localDynamoDbClient(testStack().dynamodbEndpoint);
  const gamesTable = uniqueName('games');
  const offsetsTable = uniqueName('offsets');
  await Promise.all([createGamesTable(dynamodb, gamesTable), createOffsetsTable(dynamodb, offsetsTable)]);
  return {
    gamesTable,
    offsetsTable,
    dynamodb,
    cleanup: async () => {
      await Promise.all([deleteTable(dynamodb, gamesTable), deleteTable(dynamodb, offsetsTable)]);
      dynamodb.destroy();
    },
  };
}
