import {
  ConditionalCheckFailedException,
  DynamoDBServiceException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
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

/** AWS errors about our credentials and permissions, not about the request: fatal to the invocation. */
export const AWS_ACCESS_ERRORS: ReadonlySet<string> = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'MissingAuthenticationTokenException',
  'ExpiredTokenException',
  'CredentialsProviderError',
]);

/** Client errors (HTTP 4xx) that mean "slow down" or "try again": a later try can succeed. */
const RETRYABLE_CLIENT_ERRORS: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TransactionConflictException',
]);

/**
 * True for a DynamoDB answer that no retry of the same request can change: a client error
 * (`ValidationException` for an item that would pass 400 KB, a malformed request) other
 * than throttling, a failed condition, a missing table or a credentials problem. Decided on
 * the exception's type, fault and retryable trait, never on its message text. Network
 * errors and timeouts are not DynamoDB answers and are never "rejected".
 */
export const isRejectedRequest = (error: unknown): error is DynamoDBServiceException =>
  error instanceof DynamoDBServiceException &&
  error.$fault === 'client' &&
  error.$retryable === undefined &&
  !RETRYABLE_CLIENT_ERRORS.has(error.name) &&
  !AWS_ACCESS_ERRORS.has(error.name) &&
  !(error instanceof ConditionalCheckFailedException) &&
  !(error instanceof ResourceNotFoundException);
