import { DescribeTableCommand, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { createTestTables, uniqueName } from '../support/stack.js';

describe('test tables in DynamoDB Local', () => {
  it('creates ACTIVE on-demand tables keyed by gameId and consumer, and deletes them', async () => {
    const tables = await createTestTables();
    const { dynamodb, gamesTable, offsetsTable } = tables;
    try {
      const games = (await dynamodb.send(new DescribeTableCommand({ TableName: gamesTable }))).Table;
      expect(games?.TableStatus).toBe('ACTIVE');
      expect(games?.KeySchema).toEqual([{ AttributeName: 'gameId', KeyType: 'HASH' }]);
      expect(games?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
      const offsets = (await dynamodb.send(new DescribeTableCommand({ TableName: offsetsTable }))).Table;
      expect(offsets?.KeySchema).toEqual([{ AttributeName: 'consumer', KeyType: 'HASH' }]);
      await dynamodb.send(new PutItemCommand({ TableName: offsetsTable, Item: { consumer: { S: 'c' } } }));
    } finally {
      await tables.cleanup();
    }
    const probe = await createTestTables();
    try {
      const names = (await probe.dynamodb.send(new ListTablesCommand({}))).TableNames ?? [];
      expect(names).not.toContain(gamesTable);
      expect(names).not.toContain(offsetsTable);
    } finally {
      await probe.cleanup();
    }
  });

  it('makes unique names that are valid table names and redis keys', () => {
    const names = new Set(Array.from({ length: 100 }, () => uniqueName('games')));
    expect(names.size).toBe(100);
    for (const name of [...names, uniqueName('a b/c:d')]) {
      expect(name).toMatch(/^[A-Za-z0-9_.-]{3,255}$/);
    }
  });
});
