/**
 * Deployment configuration of the start-flow consumer, read from CDK context.
 *
 * Every value can come from `cdk.json` or `cdk deploy -c key=value`. Values passed with `-c`
 * always arrive as strings, so numbers and booleans are parsed here rather than trusted. Every
 * key is documented in `docs/deployment.md`; keep the two in sync.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DEFAULT_STREAMS, VARIABLES } from '../functions/runtime-job-results/environment.js';
import type {
  ChoiceOf,
  ChoiceVariable,
  ConsumerMode,
  LogLevel,
  StreamNames,
  VariableOfKind,
} from '../functions/runtime-job-results/environment.js';

/**
 * Tuning values handed to the function through its environment. Their defaults and limits
 * (and those of the stream names) are the function's own, from
 * functions/runtime-job-results/environment.ts, so a value the stack accepts is one the
 * function accepts.
 */
export interface ConsumerTuning {
  /** Stream entries read per batch (`BATCH_SIZE`). */
  readonly batchSize: number;
  /** Entries processed in parallel (`MAX_CONCURRENCY`). */
  readonly maxConcurrency: number;
  /** Attempts before an entry is dead-lettered (`MAX_ATTEMPTS`). */
  readonly maxAttempts: number;
  /** Consumer mode (`CONSUMER_MODE`). */
  readonly mode: ConsumerMode;
  /** Timeout of one Game Master call in milliseconds (`GM_TIMEOUT_MS`). */
  readonly gmTimeoutMs: number;
  /** Time left unused before the Lambda deadline, in milliseconds (`TIME_BUDGET_MARGIN_MS`). */
  readonly timeBudgetMarginMs: number;
  /**
   * Follow mode's poll interval in milliseconds (`POLL_INTERVAL_MS`); 0 when follow mode is
   * off, so each invocation drains the stream and returns.
   */
  readonly pollIntervalMs: number;
  /** Powertools log level (`POWERTOOLS_LOG_LEVEL`). */
  readonly logLevel: LogLevel;
}

/** Alarm thresholds. */
export interface AlarmThresholds {
  /** Alarm when the oldest unfinished stream entry is older than this many seconds. */
  readonly lagAgeSeconds: number;
  /** Alarm when the function reports at least this many errors in five minutes. */
  readonly functionErrors: number;
  /** Alarm when at least this many entries are dead-lettered in five minutes. */
  readonly deadLetters: number;
}

/** The whole, validated configuration. */
export interface StartFlowConfig {
  /** Stage name, part of resource and stack names (`dev`, `staging`, `prod`, ...). */
  readonly stage: string;
  /**
   * A throwaway stage: data tables, secrets and logs are deleted with the stack and the tables
   * have no deletion protection. Never set this on a stage whose data matters.
   */
  readonly throwaway: boolean;
  /** Target account; undefined leaves the stack account-agnostic. */
  readonly account?: string;
  /** Target region; undefined leaves the stack region-agnostic. */
  readonly region?: string;
  /** Minutes between two scheduled invocations. */
  readonly scheduleRateMinutes: number;
  /** Whether the schedule is enabled (disable it to pause the consumer without a teardown). */
  readonly scheduleEnabled: boolean;
  /**
   * Whether invocations follow the stream until their time budget ends, each taking over
   * from the one before (`followMode`); otherwise each drains the stream and returns.
   */
  readonly followMode: boolean;
  /**
   * Function timeout in seconds. In follow mode it outlasts the schedule period, so each
   * tick's invocation overlaps the one before and takes over from it; in drain mode it is
   * shorter than the period.
   */
  readonly functionTimeoutSeconds: number;
  /** Invocations that may run at once: 2 in follow mode (the hand-over overlap), else 1. */
  readonly reservedConcurrency: number;
  /** Function memory in MB. */
  readonly memorySizeMb: number;
  /** Retention of the function's log group. */
  readonly logRetention: RetentionDays;
  /** Upstash REST endpoint (`UPSTASH_REDIS_REST_URL`). */
  readonly upstashRedisRestUrl: string;
  /** Game Master base URL (`GM_BASE_URL`). */
  readonly gameMasterBaseUrl: string;
  /** Existing secret holding the Upstash REST token; undefined makes the stack create one. */
  readonly upstashTokenSecretName?: string;
  /** Whether Game Master calls carry a bearer token from Secrets Manager. */
  readonly gameMasterAuth: boolean;
  /** Existing secret holding the Game Master token; undefined makes the stack create one. */
  readonly gameMasterTokenSecretName?: string;
  /** Existing games table owned by Lobby; undefined makes the stack create the table. */
  readonly gamesTableName?: string;
  /** Physical name for the offsets table; undefined lets CloudFormation name it. */
  readonly offsetsTableName?: string;
  /** Stream names. */
  readonly streams: StreamNames;
  /** Consumer tuning. */
  readonly tuning: ConsumerTuning;
  /** Alarm thresholds. */
  readonly alarms: AlarmThresholds;
  /**
   * Problems that do not stop a synth but must be fixed before a real deployment (for example
   * a missing endpoint URL replaced by a placeholder). The stack surfaces them as warnings.
   */
  readonly warnings: readonly string[];
}

/** Anything that can answer a context lookup (an App's or Stack's `node`). */
export interface ContextSource {
  tryGetContext(key: string): unknown;
}

/** Placeholder host used when an endpoint URL is missing; `.invalid` never resolves (RFC 2606). */
const PLACEHOLDER_HOST_SUFFIX = '.invalid';

/** Default values of every optional setting, exported so tests and docs can refer to them. */
export const DEFAULTS = {
  stage: 'dev',
  throwaway: false,
  scheduleRateMinutes: 1,
  scheduleEnabled: true,
  followMode: true,
  // 1,024 MB = 0.58 vCPU: the bench's Lambda-size sweep on the runtime's Node.js (docs/deployment.md, "Memory size").
  memorySizeMb: 1_024,
  logRetentionDays: 30,
  gameMasterAuth: true,
  streams: DEFAULT_STREAMS,
  tuning: {
    batchSize: VARIABLES.BATCH_SIZE.default,
    maxConcurrency: VARIABLES.MAX_CONCURRENCY.default,
    maxAttempts: VARIABLES.MAX_ATTEMPTS.default,
    mode: VARIABLES.CONSUMER_MODE.default,
    gmTimeoutMs: VARIABLES.GM_TIMEOUT_MS.default,
    timeBudgetMarginMs: VARIABLES.TIME_BUDGET_MARGIN_MS.default,
    // The stack follows by default (the handler's own default, 0, drains): a result within a second.
    pollIntervalMs: 250,
    logLevel: VARIABLES.POWERTOOLS_LOG_LEVEL.default,
  },
  alarms: {
    lagAgeSeconds: 300,
    functionErrors: 1,
    deadLetters: 1,
  },
} as const satisfies {
  readonly stage: string;
  readonly throwaway: boolean;
  readonly scheduleRateMinutes: number;
  readonly scheduleEnabled: boolean;
  readonly followMode: boolean;
  readonly memorySizeMb: number;
  readonly logRetentionDays: number;
  readonly gameMasterAuth: boolean;
  readonly streams: StreamNames;
  readonly tuning: ConsumerTuning;
  readonly alarms: AlarmThresholds;
};

/** Lambda's hard ceiling on a function timeout. */
const MAX_LAMBDA_TIMEOUT_SECONDS = 900;

/**
 * Drain mode: seconds kept free between the end of one invocation's timeout and the next
 * tick, so two invocations never overlap even when one runs into its timeout.
 */
const SCHEDULE_HEADROOM_SECONDS = 10;

/**
 * Follow mode: seconds by which the next tick's invocation starts before the running one
 * stops following (at its timeout minus the margin). It covers the scheduler's delivery
 * delay and a cold start; the new invocation waits for the lease meanwhile.
 */
const FOLLOW_HANDOVER_SECONDS = 10;

/** Thrown when a context value is present but unusable. */
export class ConfigError extends Error {
  constructor(key: string, problem: string) {
    super(`Invalid context value "${key}": ${problem}. See docs/deployment.md.`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the configuration.
 *
 * @param context usually `app.node`
 * @param env process environment, used only for `CDK_DEFAULT_ACCOUNT`/`CDK_DEFAULT_REGION`
 *   fallbacks (the CDK CLI sets them from the active profile)
 */
export function readConfig(
  context: ContextSource,
  env: Readonly<Record<string, string | undefined>> = process.env,
): StartFlowConfig {
  const read = new ContextReader(context);
  const warnings: string[] = [];

  const stage = read.string('stage') ?? DEFAULTS.stage;
  if (!/^[a-z][a-z0-9-]{0,19}$/.test(stage)) {
    throw new ConfigError('stage', 'use 1-20 lowercase letters, digits or dashes, starting with a letter');
  }

  // Up to an hour: beyond that the lag alarm (three periods) would look back more than a day.
  const scheduleRateMinutes = read.integer('scheduleRateMinutes', 1, 60) ?? DEFAULTS.scheduleRateMinutes;
  const periodSeconds = scheduleRateMinutes * 60;
  const followMode = read.boolean('followMode') ?? DEFAULTS.followMode;
  const timeBudgetMarginMs = read.integerOf('timeBudgetMarginMs', 'TIME_BUDGET_MARGIN_MS');
  const marginSeconds = Math.ceil(timeBudgetMarginMs / 1000);
  const functionTimeoutSeconds =
    read.integer('functionTimeoutSeconds', 10, MAX_LAMBDA_TIMEOUT_SECONDS) ??
    Math.min(
      followMode ? periodSeconds + marginSeconds + FOLLOW_HANDOVER_SECONDS : periodSeconds - SCHEDULE_HEADROOM_SECONDS,
      MAX_LAMBDA_TIMEOUT_SECONDS,
    );
  if (timeBudgetMarginMs >= functionTimeoutSeconds * 1000) {
    throw new ConfigError(
      'timeBudgetMarginMs',
      `${timeBudgetMarginMs}ms leaves no time inside a ${functionTimeoutSeconds}s timeout`,
    );
  }
  if (followMode) {
    // Each invocation follows until its timeout minus the margin; the next tick must come
    // before that, or the stream goes unfollowed until it does.
    if (functionTimeoutSeconds * 1000 - timeBudgetMarginMs <= periodSeconds * 1000) {
      throw new ConfigError(
        'functionTimeoutSeconds',
        `${functionTimeoutSeconds}s minus the ${timeBudgetMarginMs}ms margin does not outlast the schedule period ` +
          `of ${periodSeconds}s, so follow mode would leave gaps (a longer timeout, a shorter period, or followMode=false)`,
      );
    }
    // Two invocations overlap at a hand-over; a third would find the concurrency taken.
    if (functionTimeoutSeconds >= 2 * periodSeconds) {
      throw new ConfigError(
        'functionTimeoutSeconds',
        `${functionTimeoutSeconds}s spans two schedule periods of ${periodSeconds}s; follow mode overlaps only two invocations`,
      );
    }
  } else if (functionTimeoutSeconds >= periodSeconds) {
    // With reserved concurrency 1 an invocation that outlives the period makes the next tick
    // queue behind it; keeping the timeout below the period rules that out by construction.
    throw new ConfigError(
      'functionTimeoutSeconds',
      `${functionTimeoutSeconds}s is not shorter than the schedule period of ${periodSeconds}s`,
    );
  }
  const pollIntervalMs =
    read.integer('pollIntervalMs', 1, VARIABLES.POLL_INTERVAL_MS.max) ?? DEFAULTS.tuning.pollIntervalMs;

  // The lag metric comes once per period (as an invocation ends), and in drain mode entries
  // wait up to one period for the next tick, so a threshold within one period could fire on
  // a healthy consumer; the default grows with slow schedules for that reason.
  const lagAgeSeconds =
    read.integer('lagAlarmThresholdSeconds', 60, 86_400) ?? Math.max(DEFAULTS.alarms.lagAgeSeconds, 2 * periodSeconds);
  if (lagAgeSeconds <= periodSeconds) {
    throw new ConfigError(
      'lagAlarmThresholdSeconds',
      `${lagAgeSeconds}s is not longer than the schedule period of ${periodSeconds}s`,
    );
  }

  const logRetentionDays = read.integer('logRetentionDays', 1, 3653) ?? DEFAULTS.logRetentionDays;
  if (!isRetentionDays(logRetentionDays)) {
    throw new ConfigError('logRetentionDays', `${logRetentionDays} is not a retention CloudWatch Logs accepts`);
  }

  const upstashRedisRestUrl =
    read.url('upstashRedisRestUrl', ['https:']) ?? placeholderUrl('upstash', warnings, 'upstashRedisRestUrl');
  const gameMasterBaseUrl =
    read.url('gameMasterBaseUrl', ['https:', 'http:']) ?? placeholderUrl('game-master', warnings, 'gameMasterBaseUrl');
  const gameMasterAuth = read.boolean('gameMasterAuth') ?? DEFAULTS.gameMasterAuth;
  // The function refuses it at cold start too; failing the synth says so before a deploy.
  if (gameMasterAuth && new URL(gameMasterBaseUrl).protocol === 'http:') {
    throw new ConfigError(
      'gameMasterBaseUrl',
      'must be an https:// URL while gameMasterAuth is on: the token would cross the network in clear',
    );
  }

  const account = read.string('account') ?? nonEmpty(env.CDK_DEFAULT_ACCOUNT);
  const region = read.string('region') ?? nonEmpty(env.CDK_DEFAULT_REGION);

  return {
    stage,
    throwaway: read.boolean('throwaway') ?? DEFAULTS.throwaway,
    ...(account === undefined ? {} : { account }),
    ...(region === undefined ? {} : { region }),
    scheduleRateMinutes,
    scheduleEnabled: read.boolean('scheduleEnabled') ?? DEFAULTS.scheduleEnabled,
    followMode,
    functionTimeoutSeconds,
    reservedConcurrency: followMode ? 2 : 1,
    memorySizeMb: read.integer('memorySizeMb', 128, 10_240) ?? DEFAULTS.memorySizeMb,
    logRetention: logRetentionDays,
    upstashRedisRestUrl,
    gameMasterBaseUrl,
    ...optional('upstashTokenSecretName', read.secretName('upstashTokenSecretName')),
    gameMasterAuth,
    ...optional('gameMasterTokenSecretName', read.secretName('gameMasterTokenSecretName')),
    ...optional('gamesTableName', read.tableName('gamesTableName')),
    ...optional('offsetsTableName', read.tableName('offsetsTableName')),
    streams: {
      results: read.string('resultsStream') ?? DEFAULTS.streams.results,
      stopJobs: read.string('stopJobsStream') ?? DEFAULTS.streams.stopJobs,
      notificationIntents: read.string('notificationIntentsStream') ?? DEFAULTS.streams.notificationIntents,
      deadLetters: read.string('deadLetterStream') ?? DEFAULTS.streams.deadLetters,
    },
    tuning: {
      batchSize: read.integerOf('batchSize', 'BATCH_SIZE'),
      maxConcurrency: read.integerOf('maxConcurrency', 'MAX_CONCURRENCY'),
      maxAttempts: read.integerOf('maxAttempts', 'MAX_ATTEMPTS'),
      mode: read.choiceOf('consumerMode', 'CONSUMER_MODE'),
      gmTimeoutMs: read.integerOf('gmTimeoutMs', 'GM_TIMEOUT_MS'),
      timeBudgetMarginMs,
      pollIntervalMs: followMode ? pollIntervalMs : 0,
      logLevel: read.choiceOf('logLevel', 'POWERTOOLS_LOG_LEVEL'),
    },
    alarms: {
      lagAgeSeconds,
      functionErrors: read.integer('errorAlarmThreshold', 1, 10_000) ?? DEFAULTS.alarms.functionErrors,
      deadLetters: read.integer('deadLetterAlarmThreshold', 1, 10_000) ?? DEFAULTS.alarms.deadLetters,
    },
    warnings,
  };
}

/** Typed, validating accessors over raw context values. */
class ContextReader {
  constructor(private readonly context: ContextSource) {}

  /** A non-empty string, or undefined when the key is absent or empty. */
  string(key: string): string | undefined {
    const value = this.context.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') throw new ConfigError(key, 'expected a string');
    return value.trim() === '' ? undefined : value.trim();
  }

  /** A boolean given as a JSON boolean or as the string `true`/`false` (from `-c`). */
  boolean(key: string): boolean | undefined {
    const value = this.context.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    throw new ConfigError(key, 'expected true or false');
  }

  /** An integer in [min, max] given as a JSON number or a numeric string. */
  integer(key: string, min: number, max: number): number | undefined {
    const value = this.context.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    const parsed = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : Number.NaN;
    if (!Number.isInteger(parsed)) throw new ConfigError(key, 'expected an integer');
    if (parsed < min || parsed > max) throw new ConfigError(key, `expected a value from ${min} to ${max}`);
    return parsed;
  }

  /** An integer within the limits of the function's variable `name`, or that variable's default. */
  integerOf(key: string, name: VariableOfKind<'integer'>): number {
    const { min, max, default: fallback } = VARIABLES[name];
    return this.integer(key, min, max) ?? fallback;
  }

  /** One of the choices of the function's variable `name` (its case rule too), or its default. */
  choiceOf<N extends VariableOfKind<'choice'>>(key: string, name: N): ChoiceOf<N> {
    const variable: ChoiceVariable = VARIABLES[name];
    const raw = this.string(key);
    const value = raw === undefined ? variable.default : variable.ignoreCase ? raw.toUpperCase() : raw;
    const match = variable.choices.find((candidate) => candidate === value);
    if (match === undefined) throw new ConfigError(key, `expected one of ${variable.choices.join(', ')}`);
    return match as ChoiceOf<N>;
  }

  /** An absolute URL with one of the given protocols, without a trailing slash. */
  url(key: string, protocols: readonly string[]): string | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new ConfigError(key, 'expected an absolute URL');
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new ConfigError(key, `expected a ${protocols.join(' or ')} URL`);
    }
    // Credentials in a URL would end up in the template and the function's environment.
    if (parsed.username !== '' || parsed.password !== '') {
      throw new ConfigError(key, 'the URL must not carry credentials; tokens belong in Secrets Manager');
    }
    return value.replace(/\/+$/, '');
  }

  /** A Secrets Manager secret name (not an ARN: the stack derives the ARN itself). */
  secretName(key: string): string | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    if (!/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(value) || value.startsWith('arn:')) {
      throw new ConfigError(key, 'expected a secret name such as galaxy/prod/upstash-token');
    }
    return value;
  }

  /** A DynamoDB table name. */
  tableName(key: string): string | undefined {
    const value = this.string(key);
    if (value === undefined) return undefined;
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(value)) throw new ConfigError(key, 'expected a DynamoDB table name');
    return value;
  }
}

function isRetentionDays(value: number): value is RetentionDays {
  return Object.values(RetentionDays).includes(value);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** Spreads `{ [key]: value }` only when the value is defined, so optional keys stay absent. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}

/**
 * Returns an unroutable placeholder URL and records a warning, so that synth and tests work
 * without real endpoints while a deployment of the placeholder is loud (the function fails at
 * cold start and the error alarm fires).
 */
function placeholderUrl(name: string, warnings: string[], key: string): string {
  warnings.push(`Context "${key}" is not set; using a placeholder URL. Set it before deploying (docs/deployment.md).`);
  return `https://${name}${PLACEHOLDER_HOST_SUFFIX}`;
}
