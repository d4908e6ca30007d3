/**
 * Every environment variable the function reads: its name, its default, its limits and one
 * line on what it means. This is the only list: `loadConfig` validates through it, the CDK
 * stack and the local stack write their environments with {@link renderEnvironment}, and the
 * README's configuration table is generated from it (`npm run docs:environment`).
 *
 * Bundle-safe: type imports only, so the Lambda bundle gains nothing but this table.
 */
import type { Config, TokenSource } from './config.js';

/** `batched` is the default; `seed` replays the Go worker's algorithm (one entry per pull). */
export const ConsumerMode = { batched: 'batched', seed: 'seed' } as const;
export type ConsumerMode = (typeof ConsumerMode)[keyof typeof ConsumerMode];

/** The levels Powertools Logger knows, quietest last. */
const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

interface Documented {
  /**
   * One line on what the variable means, in Markdown without links (the README and
   * docs/contract.md show it, and a relative link cannot be right in both).
   */
  readonly doc: string;
}

/** A free-form value: a name, a key, a URL. */
interface TextVariable extends Documented {
  readonly kind: 'text';
  readonly default?: string;
  /** `true` when the function cannot start without it; a string when that depends (`required in AWS`). */
  readonly required?: true | string;
}

/** A whole number within limits. */
interface IntegerVariable extends Documented {
  readonly kind: 'integer';
  readonly default: number;
  readonly min: number;
  readonly max: number;
}

/** One of a fixed set of words. */
export interface ChoiceVariable extends Documented {
  readonly kind: 'choice';
  readonly default: string;
  readonly choices: readonly string[];
  /** Whether `debug` means `DEBUG`: the value is upper-cased before it is matched. */
  readonly ignoreCase?: true;
}

export type Variable = TextVariable | IntegerVariable | ChoiceVariable;

/** Every variable, in the order the README lists them. */
export const VARIABLES = {
  RESULTS_STREAM: { kind: 'text', default: 'runtime:job_results', doc: 'stream consumed' },
  STOP_JOBS_STREAM: { kind: 'text', default: 'runtime:stop_jobs', doc: 'orphan container stop jobs' },
  NOTIFICATION_INTENTS_STREAM: { kind: 'text', default: 'notification:intents', doc: 'admin notification intents' },
  DEAD_LETTER_STREAM: { kind: 'text', default: 'runtime:job_results:dead', doc: 'dead letters' },
  UPSTASH_REDIS_REST_URL: {
    kind: 'text',
    required: true,
    doc: 'Upstash REST endpoint; `https://` (`http://` only for loopback, as the local stack runs it)',
  },
  UPSTASH_REDIS_REST_TOKEN: {
    kind: 'text',
    required: 'required without the ARN',
    doc: 'token (local runs)',
  },
  UPSTASH_REDIS_REST_TOKEN_SECRET_ARN: {
    kind: 'text',
    doc: 'Secrets Manager ARN of the token (AWS); wins over the plain token',
  },
  UPSTASH_TIMEOUT_MS: {
    kind: 'integer',
    default: 5_000,
    min: 100,
    max: 60_000,
    doc: 'per-request timeout of the Upstash client',
  },
  GAMES_TABLE: { kind: 'text', required: true, doc: 'DynamoDB games table name' },
  OFFSETS_TABLE: { kind: 'text', required: true, doc: 'DynamoDB offsets (and lease) table name' },
  DYNAMODB_ENDPOINT: {
    kind: 'text',
    doc: 'DynamoDB Local endpoint; dummy credentials and `us-east-1` are used with it',
  },
  AWS_REGION: { kind: 'text', required: 'required in AWS', doc: 'set by Lambda' },
  AWS_DEFAULT_REGION: { kind: 'text', doc: 'read when `AWS_REGION` is not set' },
  AWS_ACCESS_KEY_ID: {
    kind: 'text',
    default: 'local',
    doc: 'read only with `DYNAMODB_ENDPOINT`; in AWS the role’s credentials are used',
  },
  AWS_SECRET_ACCESS_KEY: { kind: 'text', default: 'local', doc: 'as `AWS_ACCESS_KEY_ID`' },
  GM_BASE_URL: {
    kind: 'text',
    required: true,
    doc: 'Game Master base URL; `https://` while a token is set (`http://` only for loopback)',
  },
  GM_TIMEOUT_MS: { kind: 'integer', default: 3_000, min: 100, max: 60_000, doc: 'Game Master request timeout' },
  GM_API_TOKEN: { kind: 'text', doc: 'optional bearer token for Game Master (local runs)' },
  GM_API_TOKEN_SECRET_ARN: {
    kind: 'text',
    doc: 'Secrets Manager ARN of the Game Master token (AWS); wins over the plain token',
  },
  BATCH_SIZE: { kind: 'integer', default: 100, min: 1, max: 1_000, doc: 'entries per `XRANGE`' },
  MAX_CONCURRENCY: {
    kind: 'integer',
    // Where throughput stopped rising with network latency in the benchmark.
    default: 16,
    min: 1,
    max: 256,
    doc:
      'entries of different games in flight at once (`1` = one at a time); chosen by measurement, ' +
      'see `docs/performance.md`',
  },
  MAX_ATTEMPTS: {
    kind: 'integer',
    default: 5,
    min: 1,
    max: 100,
    doc: 'tries of an entry across invocations before its dead letter',
  },
  ATTEMPTS_PER_INVOCATION: {
    kind: 'integer',
    default: 3,
    min: 1,
    max: 100,
    doc: 'drain mode: tries of an entry within one invocation (a follower tries up to `MAX_ATTEMPTS`)',
  },
  RETRY_BACKOFF_MS: {
    kind: 'integer',
    default: 100,
    min: 0,
    max: 60_000,
    doc: 'first retry’s backoff: doubled per retry in a drain, ×8 per try (up to 60 s) in follow mode',
  },
  TIME_BUDGET_MARGIN_MS: {
    kind: 'integer',
    default: 10_000,
    min: 0,
    max: 900_000,
    doc: 'stop starting work when less than this is left before the deadline',
  },
  POLL_INTERVAL_MS: {
    kind: 'integer',
    default: 0,
    min: 0,
    max: 60_000,
    doc:
      '`0`: return when drained. Above 0: follow the stream until the margin, reading again this long after a ' +
      'read that found nothing, and wait for a held lease that ends within this invocation’s budget; the CDK ' +
      'stack sets `250`. A follower stops at its deadline minus `TIME_BUDGET_MARGIN_MS` and releases the lease ' +
      'then: keep the margin at 2 s or more, so the release goes out before requests are cut 1 s before the deadline',
  },
  POLL_IDLE_MAX_MS: {
    kind: 'integer',
    // 1.2 s: an idle minute stays under 60 reads with the per-invocation requests.
    default: 1_200,
    min: 1,
    max: 60_000,
    doc:
      'follow mode: the idle back-off’s ceiling, the longest wait between two empty reads (the interval if ' +
      'that is longer); an asked holder hands over within about this long',
  },
  CONSUMER_MODE: {
    kind: 'choice',
    default: ConsumerMode.batched,
    choices: Object.values(ConsumerMode),
    doc:
      '`seed` runs the Go worker’s algorithm: one entry per read, one at a time, offset after each ' +
      '(`BATCH_SIZE` and `MAX_CONCURRENCY` are then 1)',
  },
  POWERTOOLS_SERVICE_NAME: { kind: 'text', default: 'lobby', doc: 'logger and metrics service' },
  POWERTOOLS_METRICS_NAMESPACE: { kind: 'text', default: 'Galaxy/Lobby', doc: 'metrics namespace' },
  STAGE: {
    kind: 'text',
    doc:
      'deployment stage (`dev`, `prod`, …): the `stage` dimension of every metric, so stages that share an ' +
      'account and region keep their metrics and alarms apart; unset, metrics carry no stage dimension',
  },
  POWERTOOLS_LOG_LEVEL: {
    kind: 'choice',
    default: 'INFO',
    choices: LOG_LEVELS,
    ignoreCase: true,
    doc: 'log level (any case)',
  },
  POWERTOOLS_TRACE_ENABLED: {
    kind: 'choice',
    default: 'false',
    choices: ['true', 'false'],
    doc:
      '`true` traces each invocation with Powertools Tracer (AWS X-Ray): the DynamoDB and Secrets Manager clients, ' +
      'Game Master and Upstash calls; the stack sets it with active tracing when its `tracing` setting is on',
  },
} as const satisfies Record<string, Variable>;

export type VariableName = keyof typeof VARIABLES;

/** Names of the variables of one kind, so a reader only accepts the names it can read. */
export type VariableOfKind<K extends Variable['kind']> = {
  [N in VariableName]: (typeof VARIABLES)[N]['kind'] extends K ? N : never;
}[VariableName];

/** The values a choice variable takes. */
export type ChoiceOf<N extends VariableOfKind<'choice'>> = (typeof VARIABLES)[N]['choices'][number];

/** Names of the text variables that have a default, so reading one always gives a value. */
export type TextWithDefault = {
  [N in VariableOfKind<'text'>]: (typeof VARIABLES)[N] extends { readonly default: string } ? N : never;
}[VariableOfKind<'text'>];

/** The four stream keys of one consumer. */
export type StreamNames = Config['streams'];

/** The stream keys a consumer uses when none are configured. */
export const DEFAULT_STREAMS: StreamNames = {
  results: VARIABLES.RESULTS_STREAM.default,
  stopJobs: VARIABLES.STOP_JOBS_STREAM.default,
  notificationIntents: VARIABLES.NOTIFICATION_INTENTS_STREAM.default,
  deadLetters: VARIABLES.DEAD_LETTER_STREAM.default,
};

/**
 * The logger's and the metrics' settings. Not part of `Config`: the logger exists before the
 * configuration is loaded (to log its failure), so it reads them itself with {@link telemetryOf}.
 */
export interface TelemetrySettings {
  readonly serviceName: string;
  readonly metricsNamespace: string;
  readonly logLevel: LogLevel;
  /** The `stage` dimension of every metric; absent, there is none. */
  readonly stage?: string;
  /** Trace each invocation with Powertools Tracer. */
  readonly tracing: boolean;
}

/**
 * What {@link renderEnvironment} writes: the parts of a {@link Config} that come from
 * variables, and the telemetry settings. A whole `Config` fits; a part left out is not
 * written, so the function uses its default.
 */
export interface EnvironmentSettings {
  readonly streams?: Partial<StreamNames>;
  readonly upstash: { readonly url: string; readonly token: TokenSource; readonly timeoutMs?: number };
  readonly dynamodb: {
    readonly gamesTable: string;
    readonly offsetsTable: string;
    readonly endpoint?: string | undefined;
    readonly region?: string;
  };
  readonly gameMaster: {
    readonly baseUrl: string;
    readonly timeoutMs?: number;
    readonly token?: TokenSource | undefined;
  };
  readonly consumer?: Partial<Omit<Config['consumer'], 'prefetch'>>;
  readonly telemetry?: Partial<TelemetrySettings>;
}

const tokenVariables = (
  token: TokenSource | undefined,
  valueVar: VariableOfKind<'text'>,
  arnVar: VariableOfKind<'text'>,
): Partial<Record<VariableName, string>> => {
  if (token === undefined) return {};
  return token.kind === 'secret' ? { [arnVar]: token.arn } : { [valueVar]: token.value };
};

/** Drops the unset entries, so the result holds only variables that were meant to be set. */
const defined = (environment: Record<string, string | number | undefined>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(environment).flatMap(([name, value]) => (value === undefined ? [] : [[name, String(value)]])),
  );

/**
 * Writes `settings` as the variables `loadConfig` reads back to the same values: the inverse
 * of `loadConfig` for everything that came from a variable.
 */
export const renderEnvironment = (settings: EnvironmentSettings): Record<string, string> => {
  const { streams = {}, upstash, dynamodb, gameMaster, consumer = {}, telemetry = {} } = settings;
  return defined({
    RESULTS_STREAM: streams.results,
    STOP_JOBS_STREAM: streams.stopJobs,
    NOTIFICATION_INTENTS_STREAM: streams.notificationIntents,
    DEAD_LETTER_STREAM: streams.deadLetters,
    UPSTASH_REDIS_REST_URL: upstash.url,
    ...tokenVariables(upstash.token, 'UPSTASH_REDIS_REST_TOKEN', 'UPSTASH_REDIS_REST_TOKEN_SECRET_ARN'),
    UPSTASH_TIMEOUT_MS: upstash.timeoutMs,
    GAMES_TABLE: dynamodb.gamesTable,
    OFFSETS_TABLE: dynamodb.offsetsTable,
    DYNAMODB_ENDPOINT: dynamodb.endpoint,
    AWS_REGION: dynamodb.region,
    GM_BASE_URL: gameMaster.baseUrl,
    GM_TIMEOUT_MS: gameMaster.timeoutMs,
    ...tokenVariables(gameMaster.token, 'GM_API_TOKEN', 'GM_API_TOKEN_SECRET_ARN'),
    BATCH_SIZE: consumer.batchSize,
    MAX_CONCURRENCY: consumer.maxConcurrency,
    MAX_ATTEMPTS: consumer.maxAttempts,
    ATTEMPTS_PER_INVOCATION: consumer.attemptsPerInvocation,
    RETRY_BACKOFF_MS: consumer.retryBackoffMs,
    TIME_BUDGET_MARGIN_MS: consumer.timeBudgetMarginMs,
    POLL_INTERVAL_MS: consumer.pollIntervalMs,
    POLL_IDLE_MAX_MS: consumer.pollIdleMaxMs,
    CONSUMER_MODE: consumer.mode,
    POWERTOOLS_SERVICE_NAME: telemetry.serviceName,
    POWERTOOLS_METRICS_NAMESPACE: telemetry.metricsNamespace,
    POWERTOOLS_LOG_LEVEL: telemetry.logLevel,
    STAGE: telemetry.stage,
    POWERTOOLS_TRACE_ENABLED: telemetry.tracing === undefined ? undefined : String(telemetry.tracing),
  } satisfies Partial<Record<VariableName, string | number | undefined>>);
};

const nonEmpty = (value: string | undefined): string | undefined => {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
};

/** Whether `value` names a level of {@link LOG_LEVELS}, in any case. */
const isLogLevel = (value: string): value is LogLevel => (LOG_LEVELS as readonly string[]).includes(value);

/**
 * The logger's and metrics' settings without validation: the logger exists before
 * `loadConfig` runs (to log its failure), so a bad value falls back to its default here and
 * is reported by `loadConfig` by name.
 */
export const telemetryOf = (env: Readonly<Record<string, string | undefined>>): TelemetrySettings => {
  const level = nonEmpty(env.POWERTOOLS_LOG_LEVEL)?.toUpperCase();
  const stage = nonEmpty(env.STAGE);
  return {
    serviceName: nonEmpty(env.POWERTOOLS_SERVICE_NAME) ?? VARIABLES.POWERTOOLS_SERVICE_NAME.default,
    metricsNamespace: nonEmpty(env.POWERTOOLS_METRICS_NAMESPACE) ?? VARIABLES.POWERTOOLS_METRICS_NAMESPACE.default,
    logLevel: level !== undefined && isLogLevel(level) ? level : VARIABLES.POWERTOOLS_LOG_LEVEL.default,
    ...(stage !== undefined && isStage(stage) ? { stage } : {}),
    tracing: nonEmpty(env.POWERTOOLS_TRACE_ENABLED) === 'true',
  };
};

/** A stage name as a metric dimension value: short, and no characters a dimension query would need to quote. */
export const isStage = (value: string): boolean => /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(value);
