/**
 * Everything an invocation depends on, built once per cold start: configuration, secrets,
 * clients and the adapters over them (docs/contract.md §6.1). Kept apart from `handler.ts` so
 * the local runner, the operator CLI and the tests build exactly what the Lambda builds.
 */
import http from 'node:http';
import https from 'node:https';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { Redis } from '@upstash/redis';
import { loadConfig } from './config.js';
import type { Config, Env, TokenSource } from './config.js';
import { DynamoDbGameStore } from './adapters/dynamodb-game-store.js';
import { DynamoDbOffsetStore } from './adapters/dynamodb-offset-store.js';
import { HttpGameMaster } from './adapters/http-game-master.js';
import { InvocationDeadline } from './adapters/invocation-deadline.js';
import type { RequestBounds } from './adapters/invocation-deadline.js';
import { createUpstashClient } from './adapters/upstash-client.js';
import { UpstashResultStream } from './adapters/upstash-result-stream.js';
import { UpstashStreamPublisher } from './adapters/upstash-stream-publisher.js';
import { ConsumerError } from './errors.js';
import type { GameMaster, GameStore, OffsetStore, ResultStream, StreamPublisher } from './ports.js';
import { errorText } from './telemetry/log.js';
import { noTracing } from './telemetry/tracing.js';
import type { Tracing } from './telemetry/tracing.js';

export interface Dependencies {
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
  /** The bounds the adapters' requests have, for the operator CLI's own reads. */
  readonly bounds: { readonly dynamodb: RequestBounds; readonly upstash: RequestBounds };
}

/** Secrets Manager values are cached by Powertools for this long, across invocations. */
const SECRET_MAX_AGE_SECONDS = 300;

/**
 * Bounds on every AWS request, through the SDK's own handler options: a connection that is not
 * up within 1 s, or an attempt with no answer within 3 s, fails as a `TimeoutError` the SDK
 * retries (three attempts in all). The handler's default would wait longer than the function's
 * timeout. Each call as a whole is bounded too, with its retries, by its abort signal: its own
 * timeout and the invocation's deadline.
 */
const AWS_CONNECTION_TIMEOUT_MS = 1_000;
const AWS_REQUEST_TIMEOUT_MS = 3_000;
const AWS_MAX_ATTEMPTS = 3;
/** One DynamoDB call, its retries and their backoff included. */
const DYNAMODB_CALL_TIMEOUT_MS = 10_000;

/** `NodeHttpHandler` options for an AWS client: both timeouts, and a timeout that throws (this SDK only warns by default). */
const boundedHandlerOptions = {
  connectionTimeout: AWS_CONNECTION_TIMEOUT_MS,
  requestTimeout: AWS_REQUEST_TIMEOUT_MS,
  throwOnRequestTimeout: true,
} as const;

/**
 * DynamoDB requests that may run besides the lanes' (one each): the offset commit, a marker
 * cleared after a batch's publish, a give-up's read.
 */
const SPARE_DYNAMODB_SOCKETS = 4;

/**
 * Secrets Manager reads through Powertools' cache, with the same bounds as DynamoDB's. Made
 * on first use, so the client reads its region and endpoint from the environment then; its
 * cache lives as long as the process.
 */
let secrets: SecretsProvider | undefined;
const secretsProvider = (tracing: Tracing): SecretsProvider =>
  (secrets ??= new SecretsProvider({
    awsSdkV3Client: tracing.captureAwsClient(
      new SecretsManagerClient({ requestHandler: boundedHandlerOptions, maxAttempts: AWS_MAX_ATTEMPTS }),
    ),
  }));

const resolveToken = async (
  source: TokenSource,
  variable: string,
  options: { readonly forceFetch: boolean; readonly tracing: Tracing },
): Promise<string> => {
  if (source.kind === 'value') return source.value;
  let secret: unknown;
  try {
    secret = await secretsProvider(options.tracing).get(source.arn, {
      maxAge: SECRET_MAX_AGE_SECONDS,
      forceFetch: options.forceFetch,
    });
  } catch (error) {
    throw new ConsumerError(`${variable}: could not read secret ${source.arn}: ${errorText(error)}`, {
      cause: error,
      context: { variable },
    });
  }
  if (typeof secret !== 'string' || secret.trim() === '') {
    throw new ConsumerError(`${variable}: secret ${source.arn} is empty or not a string`, { context: { variable } });
  }
  return secret.trim();
};

/**
 * One DynamoDB client for both tables: keep-alive connections, as many sockets as requests
 * can be in flight (so no request waits for one, and a request's timeout counts from when it
 * is sent), the timeouts above and the SDK's retries.
 */
const dynamoDbClient = (config: Config): DynamoDBClient => {
  const { endpoint, region, localCredentials } = config.dynamodb;
  const agentOptions = { keepAlive: true, maxSockets: config.consumer.maxConcurrency + SPARE_DYNAMODB_SOCKETS };
  return new DynamoDBClient({
    region,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(localCredentials === undefined ? {} : { credentials: localCredentials }),
    // Throttles, 5xx and timeouts are retried by the SDK first; what still fails is retried per entry.
    maxAttempts: AWS_MAX_ATTEMPTS,
    requestHandler: {
      ...boundedHandlerOptions,
      httpsAgent: new https.Agent(agentOptions),
      // DynamoDB Local.
      httpAgent: new http.Agent(agentOptions),
    },
  });
};

export interface BuildOptions {
  /**
   * Read the secrets from Secrets Manager past Powertools' cache: after a token was refused,
   * the cached value is the one that failed, and a rotated secret must be picked up now.
   */
  readonly freshSecrets?: boolean;
  /** Captures the AWS clients when tracing is on. */
  readonly tracing?: Tracing;
}

/** Reads and validates the configuration, fetches the tokens and builds every client. */
export const buildDependencies = async (env: Env, options: BuildOptions = {}): Promise<Dependencies> => {
  const config = loadConfig(env);
  const tracing = options.tracing ?? noTracing;
  const secretOptions = { forceFetch: options.freshSecrets === true, tracing };
  const [upstashToken, gameMasterToken] = await Promise.all([
    resolveToken(config.upstash.token, 'UPSTASH_REDIS_REST_TOKEN', secretOptions),
    config.gameMaster.token === undefined
      ? undefined
      : resolveToken(config.gameMaster.token, 'GM_API_TOKEN', secretOptions),
  ]);
  const deadline = new InvocationDeadline();
  const dynamodbBounds = deadline.bounds('DynamoDB', DYNAMODB_CALL_TIMEOUT_MS);
  const upstashBounds = deadline.bounds('Upstash', config.upstash.timeoutMs);
  const dynamodb = tracing.captureAwsClient(dynamoDbClient(config));
  // The offsets table's (and the operator CLI's) client: per batch, not per entry.
  const documents = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  const redis = createUpstashClient({ url: config.upstash.url, token: upstashToken, bounds: upstashBounds });
  return {
    config,
    documents,
    redis,
    games: new DynamoDbGameStore(dynamodb, config.dynamodb.gamesTable, dynamodbBounds),
    offsets: new DynamoDbOffsetStore(documents, config.dynamodb.offsetsTable, dynamodbBounds),
    stream: new UpstashResultStream(redis, config.streams.results, upstashBounds),
    // A key of our own beside our own stream: the probe that tells an outage from a bad message.
    publisher: new UpstashStreamPublisher(redis, `${config.streams.deadLetters}:write_probe`, upstashBounds),
    gameMaster: new HttpGameMaster({
      baseUrl: config.gameMaster.baseUrl,
      token: gameMasterToken,
      bounds: deadline.bounds('Game Master', config.gameMaster.timeoutMs),
    }),
    deadline,
    bounds: { dynamodb: dynamodbBounds, upstash: upstashBounds },
  };
};
