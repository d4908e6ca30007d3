import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { waitUntil } from './wait.js';

/**
 * A DynamoDB client for DynamoDB Local: region us-east-1 and dummy static credentials, so
 * that it never looks for real AWS credentials on the developer's machine.
 *
 * `overrides` lets callers tune the client (e.g. a single attempt for readiness probes).
 */
export function localDynamoDbClient(endpoint: string, overrides: DynamoDBClientConfig = {}): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    ...overrides,
  });
}

/** Table operations against DynamoDB Local finish within milliseconds; this is only a safety net. */
const TABLE_STATUS_TIMEOUT_MS = 10_000;

/** The games table: one item per game, partition key `gameId` (string), on-demand billing. */
export async function createGamesTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await createTableWithStringKey(client, tableName, 'gameId');
}

/** The offsets table: one item per stream consumer, partition key `consumer` (string), on-demand billing. */
export async function createOffsetsTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await createTableWithStringKey(client, tableName, 'consumer');
}

async function createTableWithStringKey(client: DynamoDBClient, tableName: string, key: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await waitUntil(async () => (await describeStatus(client, tableName)) === 'ACTIVE', {
    description: `table ${tableName} to become ACTIVE`,
    timeoutMs: TABLE_STATUS_TIMEOUT_MS,
  });
}

/** Deletes a table and waits until it is gone; a table that does not exist is not an error. */
export async function deleteTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DeleteTableCommand({ TableName: tableName }));
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      return;
    }
    throw error;
  }
  await waitUntil(async () => (await describeStatus(client, tableName)) === undefined, {
    description: `table ${tableName} to be deleted`,
    timeoutMs: TABLE_STATUS_TIMEOUT_MS,
  });
}

/** The table's status, or undefined when it does not exist. */
async function describeStatus(client: DynamoDBClient, tableName: string): Promise<string | undefined> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return Table?.TableStatus ?? 'UNKNOWN';
  } catch (error) {
    if (error instanceof ResourceNotFoundException) {
      return undefined;
    }
    throw error;
  }
}
