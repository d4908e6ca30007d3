/**
 * The whole configuration, read and validated once at cold start (docs/contract.md §6.1, §8). Adapters get
 * values from here and never read `process.env` themselves.
 */

export class ConfigError extends Error {
  /** The variable that is missing or malformed. */
  readonly variable: string;

  constructor(variable: string, problem: string) {
    super(`configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/** `batched` is the default; `seed` replays the Go worker's algorithm (one entry per pull). */
export const ConsumerMode = { batched: 'batched', seed: 'seed' } as const;
export type ConsumerMode = (typeof ConsumerMode)[keyof typeof ConsumerMode];

/** Where a token comes from: the value itself (local) or a Secrets Manager ARN (AWS). */
export type TokenSource =
  | { readonly kind: 'value'; readonly value: string }
  | { readonly kind: 'secret'; readonly arn: string };

export interface Config {
  readonly streams: {
    readonly results: string;
    readonly stopJobs: string;
    readonly notificationIntents: string;
    readonly deadLetters: string;
  };
  readonly upstash: {
    readonly url: string;
    readonly token: TokenSource;
    readonly timeoutMs: number;
  };
  readonly dynamodb: {
    readonly gamesTable: string;
    readonly offsetsTable: string;
    /** DynamoDB Local, or undefined for the regional endpoint. */
    readonly endpoint: string | undefined;
    readonly region: string;
    /** Set only with a local endpoint, which accepts any key; in AWS the role's are used. */
    readonly localCredentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
  };
  readonly gameMaster: {
    readonly baseUrl: string;
    readonly timeoutMs: number;
    readonly token: TokenSource | undefined;
  };
  readonly consumer: {
    readonly mode: ConsumerMode;
    readonly batchSize: number;
    readonly prefetch: boolean;
    readonly maxConcurrency: number;
    readonly maxAttempts: number;
    /** Stop starting work when less than this is left before the Lambda deadline. */
    readonly timeBudgetMarginMs: number;
    /** Tries of one entry within a single invocation before leaving it for the next one. */
    readonly attemptsPerInvocation: number;
    /** First in-invocation backoff; doubles per retry. */
    readonly retryBackoffMs: number;
  };
}

export type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;

const present = (env: Env, name: string): string | undefined => {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
};

const required = (env: Env, name: string): string => {
  const value = present(env, name);
  if (value === undefined) throw new ConfigError(name, 'is required but not set');
  return value;
};

const integer = (env: Env, name: string, fallback: number, min: number, max: number): number => {
  const raw = present(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  }
  return value;
};

const httpUrl = (env: Env, name: string): string => {
  const raw = required(env, name);
  if (!URL.canParse(raw)) throw new ConfigError(name, `must be an absolute URL, got ${JSON.stringify(raw)}`);
  const protocol = new URL(raw).protocol;
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new ConfigError(name, `must be an http:// or https:// URL, got ${JSON.stringify(raw)}`);
  }
  return raw.replace(/\/+$/, '');
};

const optionalUrl = (env: Env, name: string): string | undefined =>
  present(env, name) === undefined ? undefined : httpUrl(env, name);

const tokenSource = (env: Env, valueVar: string, arnVar: string): TokenSource | undefined => {
  const arn = present(env, arnVar);
  if (arn !== undefined) {
    if (!arn.startsWith('arn:')) throw new ConfigError(arnVar, 'must be a Secrets Manager ARN (arn:…)');
    return { kind: 'secret', arn };
  }
  const value = present(env, valueVar);
  return value === undefined ? undefined : { kind: 'value', value };
};

/** Hosts whose traffic never leaves the machine, where a token may travel over plain http. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const isLoopback = (url: string): boolean => {
  const host = new URL(url).hostname;
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
};

/** Game Master's URL: a token is sent with every call, so it must not cross the network in clear. */
const gameMasterUrl = (env: Env, token: TokenSource | undefined): string => {
  const url = httpUrl(env, 'GM_BASE_URL');
  if (token !== undefined && new URL(url).protocol === 'http:' && !isLoopback(url)) {
    throw new ConfigError(
      'GM_BASE_URL',
      `must be an https:// URL while a Game Master token is configured (http:// only for loopback), got ${JSON.stringify(url)}`,
    );
  }
  return url;
};

const tableName = (env: Env, name: string): string => {
  const value = required(env, name);
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(value)) {
    throw new ConfigError(name, `is not a valid DynamoDB table name: ${JSON.stringify(value)}`);
  }
  return value;
};

const streamKey = (env: Env, name: string, fallback: string): string => present(env, name) ?? fallback;

/** Reads every variable; throws {@link ConfigError} naming the first missing or malformed one. */
export const loadConfig = (env: Env): Config => {
  const upstashToken = tokenSource(env, 'UPSTASH_REDIS_REST_TOKEN', 'UPSTASH_REDIS_REST_TOKEN_SECRET_ARN');
  if (upstashToken === undefined) {
    throw new ConfigError(
      'UPSTASH_REDIS_REST_TOKEN',
      'is required but not set (or set UPSTASH_REDIS_REST_TOKEN_SECRET_ARN)',
    );
  }
  const mode = present(env, 'CONSUMER_MODE') ?? ConsumerMode.batched;
  if (mode !== ConsumerMode.batched && mode !== ConsumerMode.seed) {
    throw new ConfigError('CONSUMER_MODE', `must be "batched" or "seed", got ${JSON.stringify(mode)}`);
  }
  const logLevel = (present(env, 'POWERTOOLS_LOG_LEVEL') ?? 'INFO').toUpperCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError('POWERTOOLS_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const seedMode = mode === ConsumerMode.seed;
  const gameMasterToken = tokenSource(env, 'GM_API_TOKEN', 'GM_API_TOKEN_SECRET_ARN');
  const dynamodbEndpoint = optionalUrl(env, 'DYNAMODB_ENDPOINT');
  const region =
    present(env, 'AWS_REGION') ?? present(env, 'AWS_DEFAULT_REGION') ?? (dynamodbEndpoint ? 'us-east-1' : undefined);
  if (region === undefined) throw new ConfigError('AWS_REGION', 'is required but not set');

  return {
    streams: {
      results: streamKey(env, 'RESULTS_STREAM', 'runtime:job_results'),
      stopJobs: streamKey(env, 'STOP_JOBS_STREAM', 'runtime:stop_jobs'),
      notificationIntents: streamKey(env, 'NOTIFICATION_INTENTS_STREAM', 'notification:intents'),
      deadLetters: streamKey(env, 'DEAD_LETTER_STREAM', 'runtime:job_results:dead'),
    },
    upstash: {
      url: httpUrl(env, 'UPSTASH_REDIS_REST_URL'),
      token: upstashToken,
      timeoutMs: integer(env, 'UPSTASH_TIMEOUT_MS', 5_000, 100, 60_000),
    },
    dynamodb: {
      gamesTable: tableName(env, 'GAMES_TABLE'),
      offsetsTable: tableName(env, 'OFFSETS_TABLE'),
      endpoint: dynamodbEndpoint,
      region,
      localCredentials: dynamodbEndpoint
        ? {
            accessKeyId: present(env, 'AWS_ACCESS_KEY_ID') ?? 'local',
            secretAccessKey: present(env, 'AWS_SECRET_ACCESS_KEY') ?? 'local',
          }
        : undefined,
    },
    gameMaster: {
      baseUrl: gameMasterUrl(env, gameMasterToken),
      timeoutMs: integer(env, 'GM_TIMEOUT_MS', 3_000, 1, 60_000),
      token: gameMasterToken,
    },
    consumer: {
      mode,
      // The Go worker read one entry per XREAD and handled it alone; that is what `seed` means.
      batchSize: seedMode ? 1 : integer(env, 'BATCH_SIZE', 100, 1, 1_000),
      prefetch: !seedMode,
      // 16: where throughput stopped rising with network latency in the benchmark (docs/performance.md).
      maxConcurrency: seedMode ? 1 : integer(env, 'MAX_CONCURRENCY', 16, 1, 256),
      maxAttempts: integer(env, 'MAX_ATTEMPTS', 5, 1, 100),
      timeBudgetMarginMs: integer(env, 'TIME_BUDGET_MARGIN_MS', 10_000, 0, 900_000),
      attemptsPerInvocation: integer(env, 'ATTEMPTS_PER_INVOCATION', 3, 1, 100),
      retryBackoffMs: integer(env, 'RETRY_BACKOFF_MS', 100, 0, 60_000),
    },
  };
};
