/**
 * DynamoDB's answers, as the SDK raises them, read in one place. An answer is a decision
 * (a failed condition, a missing table, a write refused for good) only when DynamoDB itself
 * named it: the SDK raises a `DynamoDBServiceException` of that name only when the error body
 * was DynamoDB's JSON with that `__type`. Anything else — an HTML page from a proxy, an empty
 * or cut body, a 408, 413 or 429 from something in between — is not DynamoDB's answer and is
 * never a decision (docs/contract.md §5.9).
 */
import {
  ConditionalCheckFailedException,
  DynamoDBServiceException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { AccessRefusedError, MissingTableError } from '../errors.js';
import type { RequestBounds } from './invocation-deadline.js';

/** DynamoDB's errors about our credentials and permissions, not about the request. */
const ACCESS_ERRORS: ReadonlySet<string> = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'ExpiredTokenException',
]);

/**
 * Client errors that no retry of the same request can change: the item would pass 400 KB or
 * the request is malformed (`ValidationException`), an item collection is full. Throttling
 * and every error DynamoDB did not name are not here: they are worth another try.
 */
const REFUSED_FOR_GOOD: ReadonlySet<string> = new Set([
  'ValidationException',
  'ItemCollectionSizeLimitExceededException',
  'SerializationException',
]);

/** What an intermediary answers when it blocks the function's requests (a WAF, an auth proxy). */
const BLOCKED_STATUSES: ReadonlySet<number> = new Set([401, 403]);

/** True when DynamoDB itself answered with an error of one of `names`. */
const namedByDynamoDb = (error: unknown, names: ReadonlySet<string>): error is DynamoDBServiceException =>
  error instanceof DynamoDBServiceException && names.has(error.name);

const httpStatus = (error: unknown): number | undefined => {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  const metadata = error.$metadata as { httpStatusCode?: unknown } | undefined;
  return typeof metadata?.httpStatusCode === 'number' ? metadata.httpStatusCode : undefined;
};

/** An answer that is not DynamoDB's own error: no parsed, named error type (the SDK calls that `Unknown`). */
const isUnnamedAnswer = (error: unknown): boolean =>
  !(error instanceof DynamoDBServiceException) || error.name === 'Unknown';

/** DynamoDB refused our credentials, or something in front of it answers 401/403 without DynamoDB's error type. */
const isAccessRefused = (error: unknown): boolean =>
  namedByDynamoDb(error, ACCESS_ERRORS) ||
  (error instanceof Error && error.name === 'CredentialsProviderError') ||
  (isUnnamedAnswer(error) && BLOCKED_STATUSES.has(httpStatus(error) ?? 0));

/**
 * Runs one request on `tableName` with its own abort signal (`bounds`), and translates what
 * is not about the request into the ports' errors: the deadline (`DeadlineReachedError`), a
 * missing table (`MissingTableError`), refused access (`AccessRefusedError`). Everything else
 * comes back as the SDK raised it, for the caller's decision rules below.
 */
export const dynamoDbRequest = async <T>(
  tableName: string,
  bounds: RequestBounds,
  request: (abortSignal: AbortSignal) => Promise<T>,
): Promise<T> => {
  try {
    return await request(bounds.signal());
  } catch (error) {
    const explained = bounds.explain(error);
    if (explained !== error) throw explained;
    if (error instanceof ResourceNotFoundException) throw new MissingTableError(tableName, { cause: error });
    if (isAccessRefused(error)) {
      const status = httpStatus(error);
      const detail = error instanceof Error ? `${error.name}${status === undefined ? '' : ` (HTTP ${status})`}` : '';
      throw new AccessRefusedError('DynamoDB', detail, { cause: error });
    }
    throw error;
  }
};

/**
 * When `error` is DynamoDB's failed condition, returns what the item held (`ALL_OLD`, or
 * `null` when there was no item); otherwise `undefined`, so the caller rethrows.
 */
export const conditionFailure = (error: unknown): Record<string, unknown> | null | undefined => {
  if (!(error instanceof ConditionalCheckFailedException)) return undefined;
  const item = error.Item as Record<string, AttributeValue> | undefined;
  return item === undefined ? null : unmarshall(item);
};

/** True when DynamoDB refused this request for good: retrying the same request cannot help. */
export const isRefusedForGood = (error: unknown): error is DynamoDBServiceException =>
  namedByDynamoDb(error, REFUSED_FOR_GOOD);

/** Joins named clauses into one `ConditionExpression`, so each rule reads on its own line. */
export const allOf = (...clauses: readonly string[]): string => clauses.map((c) => `(${c})`).join(' AND ');
