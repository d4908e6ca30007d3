import { ConditionalCheckFailedException, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { MissingTableError } from '../errors.js';

/**
 * When `error` is a failed DynamoDB condition, returns what the item held (`ALL_OLD`, or
 * `null` when there was no item); otherwise returns `undefined` so the caller rethrows.
 * Only this exception is translated: throttling, network and validation errors are not
 * decisions and must reach the retry logic as they are.
 */
export const conditionFailure = (error: unknown): Record<string, unknown> | null | undefined => {
  if (!(error instanceof ConditionalCheckFailedException)) return undefined;
  const item = error.Item as Record<string, AttributeValue> | undefined;
  return item === undefined ? null : unmarshall(item);
};

/** Joins named clauses into one `ConditionExpression`, so each rule reads on its own line. */
export const allOf = (...clauses: readonly string[]): string => clauses.map((c) => `(${c})`).join(' AND ');

/** Runs a request against `tableName`, naming the table when it does not exist. */
export const onTable = async <T>(tableName: string, request: () => Promise<T>): Promise<T> => {
  try {
    return await request();
  } catch (error) {
    if (error instanceof ResourceNotFoundException) throw new MissingTableError(tableName, { cause: error });
    throw error;
  }
};
