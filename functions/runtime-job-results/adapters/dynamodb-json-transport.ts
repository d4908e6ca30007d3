import {
  ConditionalCheckFailedException,
  DynamoDBServiceException,
  InternalServerError,
  ItemCollectionSizeLimitExceededException,
  ProvisionedThroughputExceededException,
  ReplicatedWriteConflictException,
  RequestLimitExceeded,
  ResourceNotFoundException,
  ThrottlingException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import type {
  AttributeValue,
  DynamoDBClient,
  UpdateItemCommandInput,
  UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { isServerError, isThrottlingError, isTransientError, StandardRetryStrategy } from '@smithy/core/retry';
import type { AwsCredentialIdentity, RetryErrorType, RetryStrategyV2, RetryToken, SdkError } from '@smithy/types';
import aws4 from 'aws4';
import type { InvocationDeadline } from './invocation-deadline.js';
import { KeepAliveHttp } from './keep-alive-http.js';
import { RequestTimeoutError } from './request-watch.js';

/** What an `UpdateItem` answers that the game store reads. */
export type UpdateItemOutput = Pick<UpdateItemCommandOutput, 'Attributes'>;

/** The one DynamoDB operation of the consumer's hot path (docs/performance.md, "A lighter DynamoDB request"). */
export interface UpdateItemTransport {
  updateItem(input: UpdateItemCommandInput): Promise<UpdateItemOutput>;
}

export interface DynamoDbJsonTransportOptions {
  /**
   * The client whose configuration the transport shares: region, credentials provider and
   * endpoint rules. Its own request pipeline is not used.
   */
  readonly client: DynamoDBClient;
  /** DynamoDB Local's URL; `undefined` resolves the regional endpoint with the client's endpoint rules. */
  readonly endpoint: string | undefined;
  /** Tries of one request, retries included, as the SDK client's `maxAttempts`. */
  readonly maxAttempts: number;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly deadline: InvocationDeadline;
}

const TARGET = 'DynamoDB_20120810.UpdateItem';
const CONTENT_TYPE = 'application/x-amz-json-1.0';

type ModeledError = new (options: {
  message: string;
  $metadata: UpdateItemCommandOutput['$metadata'];
}) => DynamoDBServiceException;

/**
 * The errors `UpdateItem` is modelled to raise, as the SDK's own classes: the game store,
 * the fatal-error rules and the retry rules decide on these classes and names, exactly as
 * they do for the SDK's client. Any other `__type` (`ValidationException`,
 * `AccessDeniedException`, …) becomes a `DynamoDBServiceException` of that name, as the
 * SDK makes it.
 */
const MODELED_ERRORS: Readonly<Record<string, ModeledError>> = {
  ConditionalCheckFailedException,
  InternalServerError,
  ItemCollectionSizeLimitExceededException,
  ProvisionedThroughputExceededException,
  ReplicatedWriteConflictException,
  RequestLimitExceeded,
  ResourceNotFoundException,
  ThrottlingException,
  TransactionConflictException,
};

interface Answer {
  readonly status: number;
  readonly requestId: string | undefined;
  readonly text: string;
}

interface Target {
  readonly url: URL;
  readonly region: string;
  readonly http: KeepAliveHttp;
}

/**
 * `UpdateItem` on DynamoDB's JSON protocol, sent with `node:http(s)` over keep-alive
 * connections (`KeepAliveHttp`) and signed with `aws4`
 * (synchronous SigV4, a third of the CPU of the SDK's asynchronous signer) from the SDK
 * client's credentials provider, without the SDK client's per-request middleware stack
 * (serialisation schema, endpoint middleware, auth scheme selection, deserialisation
 * schema): that stack cost about three times the CPU of the request itself, and the games
 * table's writes are two or three per entry.
 *
 * What the consumer's decisions rest on is the SDK's, not re-invented:
 * - retries go through the SDK's `StandardRetryStrategy` (its attempts, backoff with jitter
 *   and retry quota), deciding with the SDK's own throttling / transient / server error
 *   classification, as the client's retry middleware does;
 * - error answers become the SDK's exception classes, with `$fault`, `$metadata` and
 *   (for a failed condition) the `Item` DynamoDB returned;
 * - a request that gets no answer in `requestTimeoutMs` fails as the SDK's handler's does
 *   (`TimeoutError`, retried), and one cut by the invocation's deadline as a
 *   `DeadlineReachedError` (not retried).
 */
export class DynamoDbJsonTransport implements UpdateItemTransport {
  readonly #options: DynamoDbJsonTransportOptions;
  readonly #retryStrategy: RetryStrategyV2;
  #target: Promise<Target> | undefined;

  constructor(options: DynamoDbJsonTransportOptions) {
    this.#options = options;
    this.#retryStrategy = new StandardRetryStrategy(options.maxAttempts);
  }

  async updateItem(input: UpdateItemCommandInput): Promise<UpdateItemOutput> {
    const body = JSON.stringify(input);
    const { deadline } = this.#options;
    let token: RetryToken = await this.#retryStrategy.acquireInitialRetryToken('');
    let attempts = 0;
    for (;;) {
      attempts += 1;
      try {
        const output = await this.#attempt(body, attempts);
        this.#retryStrategy.recordSuccess(token);
        return output;
      } catch (error) {
        if (deadline.signal.aborted) throw deadline.explain(error, 'DynamoDB');
        try {
          token = await untilAborted(
            this.#retryStrategy.refreshRetryTokenForRetry(token, { errorType: retryErrorType(error) }),
            deadline.signal,
          );
        } catch {
          throw deadline.explain(error, 'DynamoDB');
        }
      }
    }
  }

  async #attempt(body: string, attempts: number): Promise<UpdateItemOutput> {
    this.#target ??= this.#resolveTarget();
    const target = await this.#target;
    // The client's provider: memoized, refreshed by the SDK before the role's credentials expire.
    const credentials: AwsCredentialIdentity = await this.#options.client.config.credentials();
    const { headers = {} } = aws4.sign(
      {
        host: target.url.host,
        path: target.url.pathname,
        method: 'POST',
        service: 'dynamodb',
        region: target.region,
        headers: { host: target.url.host, 'content-type': CONTENT_TYPE, 'x-amz-target': TARGET },
        body,
      },
      credentials,
    );
    const answer = await target.http.send(
      { method: 'POST', path: target.url.pathname, headers, body },
      this.#options.requestTimeoutMs,
      timeoutError,
    );
    if (answer.status === 200) return parseOutput(answer.text);
    const requestId = answer.headers['x-amzn-requestid'];
    throw errorOf(
      { status: answer.status, requestId: typeof requestId === 'string' ? requestId : undefined, text: answer.text },
      attempts,
    );
  }

  async #resolveTarget(): Promise<Target> {
    const { client, endpoint, connectionTimeoutMs, deadline } = this.#options;
    const url = new URL(endpoint ?? (await regionalEndpoint(client)));
    return {
      url,
      region: await client.config.region(),
      http: new KeepAliveHttp(url, { connectionTimeoutMs, deadline }),
    };
  }
}

/** The regional endpoint by the SDK's own rules (partition, FIPS and dual-stack settings included). */
export const regionalEndpoint = async (client: DynamoDBClient): Promise<string> => {
  const { config } = client;
  const endpoint = config.endpointProvider({
    Region: await config.region(),
    UseFIPS: await config.useFipsEndpoint(),
    UseDualStack: await config.useDualstackEndpoint(),
    // The regional name, not the account-based one: no account id to resolve per cold start.
    AccountIdEndpointMode: 'disabled',
  });
  return endpoint.url.href;
};

const parseOutput = (text: string): UpdateItemOutput => {
  const parsed = JSON.parse(text === '' ? '{}' : text) as { Attributes?: Record<string, AttributeValue> };
  return parsed.Attributes === undefined ? {} : { Attributes: parsed.Attributes };
};

/** An error answer as the SDK's client would raise it. */
const errorOf = (answer: Answer, attempts: number): DynamoDBServiceException => {
  let data: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(answer.text);
    if (typeof parsed === 'object' && parsed !== null) data = parsed as Record<string, unknown>;
  } catch {
    // Not DynamoDB's JSON (a proxy's or load balancer's page): named by its status below.
  }
  const type = typeof data.__type === 'string' ? data.__type : '';
  const name = type.split('#').pop() || 'Unknown';
  const message =
    (typeof data.message === 'string' && data.message) ||
    (typeof data.Message === 'string' && data.Message) ||
    `DynamoDB answered HTTP ${answer.status}`;
  const $metadata = { httpStatusCode: answer.status, requestId: answer.requestId, attempts };
  const Modeled = MODELED_ERRORS[name];
  // A modelled error's fault is its model's (as the SDK sets it); any other's, its HTTP status's.
  if (Modeled === undefined) {
    return new DynamoDBServiceException({
      name,
      $fault: answer.status < 500 ? 'client' : 'server',
      $metadata,
      message,
    });
  }
  const error = new Modeled({ message, $metadata });
  if (error instanceof ConditionalCheckFailedException && typeof data.Item === 'object' && data.Item !== null) {
    error.Item = data.Item as Record<string, AttributeValue>;
  }
  return error;
};

/** The SDK's retry middleware's classification, from the SDK's own predicates. */
const retryErrorType = (error: unknown): RetryErrorType => {
  const sdkError = (error instanceof Error ? error : new Error(String(error))) as SdkError;
  if (isThrottlingError(sdkError)) return 'THROTTLING';
  if (isTransientError(sdkError)) return 'TRANSIENT';
  if (isServerError(sdkError)) return 'SERVER_ERROR';
  return 'CLIENT_ERROR';
};

/** Retried as transient by the SDK's rules, as its own handler's timeouts are. */
const timeoutError = (message: string): Error => new RequestTimeoutError(`DynamoDB: ${message}`);

/** Rejects with the signal's reason as soon as it aborts, so a retry's backoff does not outlive the deadline. */
const untilAborted = <T>(promise: Promise<T>, signal: AbortSignal): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
