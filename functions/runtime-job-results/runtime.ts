/**
 * Everything an invocation needs, built once per cold start: configuration, secrets and
 * clients (docs/contract.md §6.1). Kept apart from `handler.ts` so the local runner and the tests build
 * exactly what the Lambda builds.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { Redis } from '@upstash/redis';
import { loadConfig } from './config.js';
import type { Config, Env, TokenSource } from './config.js';
import { DynamoDbGameStore } from './adapters/dynamodb-game-store.js';
import { DynamoDbOffsetStore } from './adapters/dynamodb-offset-store.js';
import { HttpGameMaster } from './adapters/http-game-master.js';
import { createUpstashClient } from './adapters/upstash-client.js';
import { UpstashResultStream } from './adapters/upstash-result-stream.js';
import { UpstashStreamPublisher } from './adapters/upstash-stream-publisher.js';
import type { GameMaster, GameStore, OffsetStore, ResultStream, StreamPublisher } from './ports.js';

export interface Runtime {
  readonly config: Config;
  /** The document client the stores use; the operator CLI reads whole items with it. */
  readonly documents: DynamoDBDocumentClient;
  readonly redis: Redis;
  readonly games: GameStore;
  readonly offsets: OffsetStore;
  readonly stream: ResultStream;
  readonly publisher: StreamPublisher;
  readonly gameMaster: GameMaster;
}

/** Secrets Manager values are cached by Powertools for this long, across invocations. */
const SECRET_MAX_AGE_SECONDS = 300;

const resolveToken = async (source: TokenSource, variable: string, forceFetch: boolean): Promise<string> => {
  if (source.kind === 'value') return source.value;
  let secret: unknown;
  try {
    secret = await getSecret(source.arn, { maxAge: SECRET_MAX_AGE_SECONDS, forceFetch });
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

const dynamoDbClient = (config: Config): DynamoDBDocumentClient => {
  const { endpoint, region, localCredentials } = config.dynamodb;
  const client = new DynamoDBClient({
    region,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(localCredentials === undefined ? {} : { credentials: localCredentials }),
    // Throttles and 5xx are retried by the SDK first; what still fails is retried per entry.
    maxAttempts: 3,
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
};

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
  const documents = dynamoDbClient(config);
  const redis = createUpstashClient({
    url: config.upstash.url,
    token: upstashToken,
    timeoutMs: config.upstash.timeoutMs,
  });
  return {
    config,
    documents,
    redis,
    games: new DynamoDbGameStore(documents, config.dynamodb.gamesTable),
    offsets: new DynamoDbOffsetStore(documents, config.dynamodb.offsetsTable),
    stream: new UpstashResultStream(redis, config.streams.results),
    // A key of our own beside our own stream: the probe that tells an outage from a bad message.
    publisher: new UpstashStreamPublisher(redis, `${config.streams.deadLetters}:write_probe`),
    gameMaster: new HttpGameMaster({
      baseUrl: config.gameMaster.baseUrl,
      timeoutMs: config.gameMaster.timeoutMs,
      token: gameMasterToken,
    }),
  };
};
