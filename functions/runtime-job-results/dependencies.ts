/**
 * Everything an invocation needs, built once per cold start: configuration, secrets and
 * clients (docs/contract.md §6.1). Kept apart from `handler.ts` so the local runner and the tests build
 * exactly what the Lambda builds.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Redis } from '@upstash/redis';
import { loadConfig } from './config.js';
import type { Config, Env, TokenSource } from './config.js';
import { DynamoDbGameStore } from './adapters/dynamodb-game-store.js';
import { DynamoDbJsonTransport } from './adapters/dynamodb-json-transport.js';
import { DynamoDbOffsetStore } from './adapters/dynamodb-offset-store.js';
import { HttpGameMaster } from './adapters/http-game-master.js';
import { InvocationDeadline } from './adapters/invocation-deadline.js';
import { createUpstashClient } from './adapters/upstash-client.js';
import { UpstashResultStream } from './adapters/upstash-result-stream.js';
import { UpstashStreamPublisher } from './adapters/upstash-stream-publisher.js';
import type { GameMaster, GameStore, OffsetStore, ResultStream, StreamPublisher } from './ports.js';

export interface Runtime {
  readonly config: Config;
  /** The document client of the offsets store; the operator CLI reads whole items with it. */
  readonly documents: DynamoDBDocumentClient;
  readonly redis: Redis;
  readonly games: GameStore;
  readonly offsets: OffsetStore;
  readonly stream: ResultStream;
  readonly publisher: StreamPublisher;
  readonly gameMaster: GameMaster;
  /** Armed by the handler at each invocation; cuts every network call just before its deadline. */
  readonly deadline: InvocationDeadline;
}

/** Secrets Manager values are cached by Powertools for this long, across invocations. */
const SECRET_MAX_AGE_SECONDS = 300;

/**
 * Bounds on every AWS request, so a dependency that accepts the connection and never answers
 * costs seconds, not the SDK's socket default (longer than the function's timeout). With
 * the SDK's three tries a hung request gives up after about 3 × 3 s; the invocation's
 * deadline (`InvocationDeadline`) bounds a chain of them. docs/deployment.md has the budget.
 */
const AWS_CONNECTION_TIMEOUT_MS = 1_000;
const AWS_REQUEST_TIMEOUT_MS = 3_000;
const AWS_MAX_ATTEMPTS = 3;

/** `NodeHttpHandler` options for an AWS client: both timeouts, and a timeout that throws (this SDK only warns by default). */
const boundedHandlerOptions = {
  connectionTimeout: AWS_CONNECTION_TIMEOUT_MS,
  requestTimeout: AWS_REQUEST_TIMEOUT_MS,
  throwOnRequestTimeout: true,
} as const;

/**
 * The DynamoDB client's HTTP handler: keep-alive (the handler's default), the timeouts
 * above, and the invocation's deadline as an abort signal on every request.
 */
class DeadlineBoundHttpHandler extends NodeHttpHandler {
  readonly #deadline: InvocationDeadline;

  constructor(deadline: InvocationDeadline) {
    super(boundedHandlerOptions);
    this.#deadline = deadline;
  }

  override async handle(...[request, options]: Parameters<NodeHttpHandler['handle']>) {
    const deadline = this.#deadline.signal;
    const abortSignal =
      options?.abortSignal === undefined ? deadline : AbortSignal.any([options.abortSignal as AbortSignal, deadline]);
    try {
      return await super.handle(request, { ...options, abortSignal });
    } catch (error) {
      throw this.#deadline.explain(error, 'DynamoDB');
    }
  }
}

/**
 * Secrets Manager reads through Powertools' cache, with the same bounds as DynamoDB's. Made
 * on first use, so the client reads its region and endpoint from the environment then.
 */
let secrets: SecretsProvider | undefined;
const secretsProvider = (): SecretsProvider =>
  (secrets ??= new SecretsProvider({
    clientConfig: { requestHandler: boundedHandlerOptions, maxAttempts: AWS_MAX_ATTEMPTS },
  }));

const resolveToken = async (source: TokenSource, variable: string, forceFetch: boolean): Promise<string> => {
  if (source.kind === 'value') return source.value;
  let secret: unknown;
  try {
    secret = await secretsProvider().get(source.arn, { maxAge: SECRET_MAX_AGE_SECONDS, forceFetch });
  } catch (error) {
    throw new Error(
      `${variable}: could not read secret ${source.arn}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (typeof secret !== 'string' || secret.trim() === '') {
    throw new Error(`${variable}: secret ${source.arn} is empty or not a string`);
  }
  return secret.trim();
};

const dynamoDbClient = (config: Config, deadline: InvocationDeadline): DynamoDBClient => {
  const { endpoint, region, localCredentials } = config.dynamodb;
  return new DynamoDBClient({
    region,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(localCredentials === undefined ? {} : { credentials: localCredentials }),
    // Throttles, 5xx and timeouts are retried by the SDK first; what still fails is retried per entry.
    maxAttempts: AWS_MAX_ATTEMPTS,
    requestHandler: new DeadlineBoundHttpHandler(deadline),
  });
};

/**
 * The games table's writes, the hot path (two or three `UpdateItem`s per entry): DynamoDB's
 * JSON protocol on keep-alive `node:http(s)`, signed with `aws4` from the client's
 * credentials, retried by the SDK's retry strategy, without the client's per-request
 * middleware stack (docs/performance.md, "A lighter DynamoDB request"). Same timeouts and
 * deadline as the SDK client's.
 */
const gamesTransport = (config: Config, client: DynamoDBClient, deadline: InvocationDeadline): DynamoDbJsonTransport =>
  new DynamoDbJsonTransport({
    client,
    endpoint: config.dynamodb.endpoint,
    maxAttempts: AWS_MAX_ATTEMPTS,
    connectionTimeoutMs: AWS_CONNECTION_TIMEOUT_MS,
    requestTimeoutMs: AWS_REQUEST_TIMEOUT_MS,
    deadline,
  });

export interface BuildOptions {
  /**
   * Read the secrets from Secrets Manager past Powertools' cache: after a token was refused,
   * the cached value is the one that failed, and a rotated secret must be picked up now.
   */
  readonly freshSecrets?: boolean;
}

/** Reads and validates the configuration, fetches the tokens and builds every client. */
export const buildRuntime = async (env: Env, options: BuildOptions = {}): Promise<Runtime> => {
  const config = loadConfig(env);
  const fresh = options.freshSecrets === true;
  const [upstashToken, gameMasterToken] = await Promise.all([
    resolveToken(config.upstash.token, 'UPSTASH_REDIS_REST_TOKEN', fresh),
    config.gameMaster.token === undefined ? undefined : resolveToken(config.gameMaster.token, 'GM_API_TOKEN', fresh),
  ]);
  const deadline = new InvocationDeadline();
  const dynamodb = dynamoDbClient(config, deadline);
  // The document client of the offsets table and the operator CLI: per batch, not per entry.
  const documents = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const redis = createUpstashClient({
    url: config.upstash.url,
    token: upstashToken,
    timeoutMs: config.upstash.timeoutMs,
    deadline,
  });
  return {
    config,
    documents,
    redis,
    games: new DynamoDbGameStore(gamesTransport(config, dynamodb, deadline), config.dynamodb.gamesTable),
    offsets: new DynamoDbOffsetStore(documents, config.dynamodb.offsetsTable),
    stream: new UpstashResultStream(redis, config.streams.results),
    // A key of our own beside our own stream: the probe that tells an outage from a bad message.
    publisher: new UpstashStreamPublisher(redis, `${config.streams.deadLetters}:write_probe`),
    gameMaster: new HttpGameMaster({
      baseUrl: config.gameMaster.baseUrl,
      timeoutMs: config.gameMaster.timeoutMs,
      token: gameMasterToken,
      deadline,
    }),
    deadline,
  };
};
