/**
 * The whole configuration, read and validated once at cold start (docs/contract.md §6.1, §8).
 * Adapters get values from here and never read `process.env` themselves. The variables' names,
 * defaults and limits live in `environment.ts`; this module turns them into a typed {@link Config}.
 */
import { ConsumerMode, isStage, VARIABLES } from './environment.js';
import { ConsumerError } from './errors.js';
import type { ChoiceOf, ChoiceVariable, TextWithDefault, VariableName, VariableOfKind } from './environment.js';

export class ConfigError extends ConsumerError {
  /** The variable that is missing or malformed. */
  readonly variable: string;

  constructor(variable: string, problem: string) {
    super(`configuration: ${variable} ${problem}`, { context: { variable } });
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

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
    /**
     * 0: return once the stream is drained (a scheduled drain). Above 0: follow the stream,
     * reading again this long after a read that found nothing, until the time budget ends.
     */
    readonly pollIntervalMs: number;
    /** Follow mode: the longest wait between two reads that find nothing (the idle back-off's ceiling). */
    readonly pollIdleMaxMs: number;
  };
}

export type Env = Readonly<Record<string, string | undefined>>;

const present = (env: Env, name: VariableName): string | undefined => {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
};

const required = (env: Env, name: VariableName): string => {
  const value = present(env, name);
  if (value === undefined) throw new ConfigError(name, 'is required but not set');
  return value;
};

/** The variable's value, or its default. */
const text = (env: Env, name: TextWithDefault): string => present(env, name) ?? VARIABLES[name].default;

const integer = (env: Env, name: VariableOfKind<'integer'>): number => {
  const { default: fallback, min, max } = VARIABLES[name];
  const raw = present(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  }
  return value;
};

const httpUrl = (env: Env, name: VariableOfKind<'text'>): string => {
  const raw = required(env, name);
  if (!URL.canParse(raw)) throw new ConfigError(name, `must be an absolute URL, got ${JSON.stringify(raw)}`);
  const protocol = new URL(raw).protocol;
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new ConfigError(name, `must be an http:// or https:// URL, got ${JSON.stringify(raw)}`);
  }
  return raw.replace(/\/+$/, '');
};

const optionalUrl = (env: Env, name: VariableOfKind<'text'>): string | undefined =>
  present(env, name) === undefined ? undefined : httpUrl(env, name);

const tokenSource = (
  env: Env,
  valueVar: VariableOfKind<'text'>,
  arnVar: VariableOfKind<'text'>,
): TokenSource | undefined => {
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

/** Upstash's URL: every request carries the token, so it travels over TLS except to this very machine. */
const upstashUrl = (env: Env): string => {
  const url = httpUrl(env, 'UPSTASH_REDIS_REST_URL');
  if (new URL(url).protocol === 'http:' && !isLoopback(url)) {
    throw new ConfigError(
      'UPSTASH_REDIS_REST_URL',
      `must be an https:// URL (http:// only for loopback): the token would cross the network in clear, got ${JSON.stringify(url)}`,
    );
  }
  return url;
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

const tableName = (env: Env, name: VariableOfKind<'text'>): string => {
  const value = required(env, name);
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(value)) {
    throw new ConfigError(name, `is not a valid DynamoDB table name: ${JSON.stringify(value)}`);
  }
  return value;
};

const choice = <N extends VariableOfKind<'choice'>>(env: Env, name: N): ChoiceOf<N> => {
  const variable: ChoiceVariable = VARIABLES[name];
  const raw = present(env, name) ?? variable.default;
  const value = variable.ignoreCase ? raw.toUpperCase() : raw;
  const match = variable.choices.find((candidate) => candidate === value);
  if (match === undefined) {
    throw new ConfigError(name, `must be one of ${variable.choices.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return match as ChoiceOf<N>;
};

/** Reads every variable; throws {@link ConfigError} naming the first missing or malformed one. */
export const loadConfig = (env: Env): Config => {
  const upstashToken = tokenSource(env, 'UPSTASH_REDIS_REST_TOKEN', 'UPSTASH_REDIS_REST_TOKEN_SECRET_ARN');
  if (upstashToken === undefined) {
    throw new ConfigError(
      'UPSTASH_REDIS_REST_TOKEN',
      'is required but not set (or set UPSTASH_REDIS_REST_TOKEN_SECRET_ARN)',
    );
  }
  const mode = choice(env, 'CONSUMER_MODE');
  // The logger reads the level before this runs (environment.ts, telemetryOf); a bad one fails here, by name.
  choice(env, 'POWERTOOLS_LOG_LEVEL');
  choice(env, 'POWERTOOLS_TRACE_ENABLED');
  const stage = present(env, 'STAGE');
  if (stage !== undefined && !isStage(stage)) {
    throw new ConfigError('STAGE', `must be 1-64 letters, digits, '.', '_' or '-', got ${JSON.stringify(stage)}`);
  }
  const seedMode = mode === ConsumerMode.seed;
  const gameMasterToken = tokenSource(env, 'GM_API_TOKEN', 'GM_API_TOKEN_SECRET_ARN');
  const dynamodbEndpoint = optionalUrl(env, 'DYNAMODB_ENDPOINT');
  const region =
    present(env, 'AWS_REGION') ?? present(env, 'AWS_DEFAULT_REGION') ?? (dynamodbEndpoint ? 'us-east-1' : undefined);
  if (region === undefined) throw new ConfigError('AWS_REGION', 'is required but not set');

  return {
    streams: {
      results: text(env, 'RESULTS_STREAM'),
      stopJobs: text(env, 'STOP_JOBS_STREAM'),
      notificationIntents: text(env, 'NOTIFICATION_INTENTS_STREAM'),
      deadLetters: text(env, 'DEAD_LETTER_STREAM'),
    },
    upstash: {
      url: upstashUrl(env),
      token: upstashToken,
      timeoutMs: integer(env, 'UPSTASH_TIMEOUT_MS'),
    },
    dynamodb: {
      gamesTable: tableName(env, 'GAMES_TABLE'),
      offsetsTable: tableName(env, 'OFFSETS_TABLE'),
      endpoint: dynamodbEndpoint,
      region,
      localCredentials: dynamodbEndpoint
        ? {
            accessKeyId: text(env, 'AWS_ACCESS_KEY_ID'),
            secretAccessKey: text(env, 'AWS_SECRET_ACCESS_KEY'),
          }
        : undefined,
    },
    gameMaster: {
      baseUrl: gameMasterUrl(env, gameMasterToken),
      timeoutMs: integer(env, 'GM_TIMEOUT_MS'),
      token: gameMasterToken,
    },
    consumer: {
      mode,
      // The Go worker read one entry per XREAD and handled it alone; that is what `seed` means.
      batchSize: seedMode ? 1 : integer(env, 'BATCH_SIZE'),
      prefetch: !seedMode,
      maxConcurrency: seedMode ? 1 : integer(env, 'MAX_CONCURRENCY'),
      maxAttempts: integer(env, 'MAX_ATTEMPTS'),
      timeBudgetMarginMs: integer(env, 'TIME_BUDGET_MARGIN_MS'),
      attemptsPerInvocation: integer(env, 'ATTEMPTS_PER_INVOCATION'),
      retryBackoffMs: integer(env, 'RETRY_BACKOFF_MS'),
      pollIntervalMs: integer(env, 'POLL_INTERVAL_MS'),
      pollIdleMaxMs: integer(env, 'POLL_IDLE_MAX_MS'),
    },
  };
};
