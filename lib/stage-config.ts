/**
 * The configuration of one stage of the repository's app: CDK context (`cdk.json`,
 * `-c key=value`) over the stage's file `stages/<stage>.json`, parsed into the props of
 * `StartFlowConsumer` and the few things the app adds around it (secrets, a demo games
 * table). It parses only: the construct checks what the values mean, and
 * {@link contextKeyOf} says which key a prop it refuses came from. Every key is documented in
 * docs/deployment.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { VARIABLES } from '../functions/runtime-job-results/environment.js';
import type { StreamNames } from '../functions/runtime-job-results/environment.js';
import { DEFAULTS } from './config.js';
import { ConfigError, ContextReader } from './context-reader.js';
import type { ContextSource } from './context-reader.js';
import type { StartFlowConsumerProps } from './props.js';
import { isStageName } from './settings.js';

/** Where the stage files are: `stages/` at the repository's root. */
export const STAGES_DIR = fileURLToPath(new URL('../stages/', import.meta.url));

/** A secret the app imports: by name (its ARN is derived) or by complete ARN. */
export type SecretReference = { readonly name: string } | { readonly arn: string };

/** The games table: Lobby's, imported by name (with its key, if it has one), or a demo one. */
export type GamesTableSource =
  | { readonly kind: 'imported'; readonly name: string; readonly keyArn?: string }
  | { readonly kind: 'demo' };

/** The props of the construct the configuration sets: all but the resources the app makes or imports. */
export type ConsumerOptions = Omit<StartFlowConsumerProps, 'gamesTable' | 'upstash' | 'gameMaster' | 'alarmTopic'>;

/** One stage's configuration. */
export interface StartFlowConfig {
  /** Stage name: the stack's name, the created secrets' names, and the construct's `stage`. */
  readonly stage: string;
  /** Target account; undefined leaves the stack account-agnostic. */
  readonly account?: string;
  /** Target region; undefined leaves the stack region-agnostic. */
  readonly region?: string;
  /** Everything created is deleted with the stack (tables lose deletion protection). */
  readonly throwaway: boolean;
  readonly gamesTable: GamesTableSource;
  readonly upstashRedisRestUrl: string;
  readonly gameMasterBaseUrl: string;
  /** Undefined: the app creates a placeholder secret. */
  readonly upstashTokenSecret?: SecretReference;
  /** Whether Game Master calls carry a token. */
  readonly gameMasterAuth: boolean;
  /** Undefined (with auth): the app creates a placeholder secret. */
  readonly gameMasterTokenSecret?: SecretReference;
  readonly gameMasterTimeout?: Duration;
  /** An existing topic for the alarms; undefined: the construct makes one. */
  readonly alarmTopicArn?: string;
  /** The construct's other props. */
  readonly consumer: ConsumerOptions;
}

/**
 * Every key the app reads, and the construct prop it sets where it sets one: the stage
 * file may hold only these, and a prop the construct refuses is reported by its key.
 */
const KEYS = {
  stage: 'stage',
  account: undefined,
  region: undefined,
  throwaway: 'removalPolicy',
  demoGamesTable: undefined,
  gamesTableName: undefined,
  gamesTableKeyArn: undefined,
  upstashRedisRestUrl: 'upstash.restUrl',
  gameMasterBaseUrl: 'gameMaster.baseUrl',
  upstashTokenSecretName: undefined,
  upstashTokenSecretArn: undefined,
  gameMasterAuth: undefined,
  gameMasterTokenSecretName: undefined,
  gameMasterTokenSecretArn: undefined,
  alarmTopicArn: undefined,
  offsetsTableName: 'offsetsTableName',
  scheduleRateMinutes: 'schedule',
  scheduleEnabled: 'scheduleEnabled',
  followMode: 'followMode',
  pollIntervalMs: 'pollInterval',
  functionTimeoutSeconds: 'timeout',
  timeBudgetMarginMs: 'timeBudgetMargin',
  memorySizeMb: 'memorySize',
  tracing: 'tracing',
  metricsNamespace: 'metricsNamespace',
  logRetentionDays: 'logRetention',
  logLevel: 'logLevel',
  batchSize: 'tuning.batchSize',
  maxConcurrency: 'tuning.maxConcurrency',
  maxAttempts: 'tuning.maxAttempts',
  consumerMode: 'tuning.mode',
  gmTimeoutMs: 'gameMaster.timeout',
  resultsStream: 'streams.results',
  stopJobsStream: 'streams.stopJobs',
  notificationIntentsStream: 'streams.notificationIntents',
  deadLetterStream: 'streams.deadLetters',
  lagAlarmThresholdSeconds: 'alarmThresholds.lagAge',
  errorAlarmThreshold: 'alarmThresholds.functionErrors',
  deadLetterAlarmThreshold: 'alarmThresholds.deadLetters',
  pausedAlarmThreshold: 'alarmThresholds.pausedGames',
} as const satisfies Record<string, string | undefined>;

/** Every key a stage reads (docs/deployment.md lists them). */
export const CONTEXT_KEYS = Object.keys(KEYS);

/** The context key that sets the construct prop `prop`, if one does. */
export function contextKeyOf(prop: string): string | undefined {
  return Object.entries(KEYS).find(([, setsProp]) => setsProp === prop)?.[0];
}

/**
 * Reads the stage's configuration: context first, then `stages/<stage>.json` (when there is
 * one), then the construct's defaults.
 *
 * @param context usually `app.node`
 * @param env process environment, used only for `CDK_DEFAULT_ACCOUNT`/`CDK_DEFAULT_REGION`
 *   fallbacks (the CDK CLI sets them from the active profile)
 * @param stagesDir the folder of the stage files
 */
export function readConfig(
  context: ContextSource,
  env: Readonly<Record<string, string | undefined>> = process.env,
  stagesDir: string = STAGES_DIR,
): StartFlowConfig {
  const stage = new ContextReader(context).string('stage') ?? DEFAULTS.stage;
  // Checked before it names a file: no path can be made of it.
  if (!isStageName(stage)) {
    throw new ConfigError('stage', 'use 1-20 lowercase letters, digits or dashes, starting with a letter');
  }
  const file = readStageFile(`${stagesDir}${stage}.json`);
  const read = new ContextReader({
    tryGetContext: (key) => context.tryGetContext(key) ?? file[key],
  });

  const followMode = read.boolean('followMode');
  const pollIntervalMs = read.count('pollIntervalMs');
  const throwaway = read.boolean('throwaway') ?? DEFAULTS.throwaway;
  const streams: Partial<Record<keyof StreamNames, string>> = {};
  for (const [name, key] of [
    ['results', 'resultsStream'],
    ['stopJobs', 'stopJobsStream'],
    ['notificationIntents', 'notificationIntentsStream'],
    ['deadLetters', 'deadLetterStream'],
  ] as const) {
    const value = read.string(key);
    if (value !== undefined) streams[name] = value;
  }
  const logRetentionDays = read.count('logRetentionDays');
  const gmTimeoutMs = read.count('gmTimeoutMs');

  const consumer: ConsumerOptions = {
    stage,
    ...optional('schedule', minutes(read.count('scheduleRateMinutes'))),
    ...optional('scheduleEnabled', read.boolean('scheduleEnabled')),
    ...optional('followMode', followMode),
    ...optional('pollInterval', millis(pollIntervalMs)),
    ...optional('timeout', seconds(read.count('functionTimeoutSeconds'))),
    ...optional('timeBudgetMargin', millis(read.count('timeBudgetMarginMs'))),
    ...optional('memorySize', read.count('memorySizeMb')),
    ...optional('tracing', read.boolean('tracing')),
    ...optional('metricsNamespace', read.string('metricsNamespace')),
    ...optional('logRetention', logRetentionDays as RetentionDays | undefined),
    ...optional('logLevel', read.choice('logLevel', VARIABLES.POWERTOOLS_LOG_LEVEL.choices, true)),
    ...optional('offsetsTableName', read.tableName('offsetsTableName')),
    ...(Object.keys(streams).length === 0 ? {} : { streams }),
    tuning: {
      ...optional('batchSize', read.count('batchSize')),
      ...optional('maxConcurrency', read.count('maxConcurrency')),
      ...optional('maxAttempts', read.count('maxAttempts')),
      ...optional('mode', read.choice('consumerMode', VARIABLES.CONSUMER_MODE.choices)),
    },
    alarmThresholds: {
      ...optional('lagAge', seconds(read.count('lagAlarmThresholdSeconds'))),
      ...optional('functionErrors', read.count('errorAlarmThreshold')),
      ...optional('deadLetters', read.count('deadLetterAlarmThreshold')),
      ...optional('pausedGames', read.count('pausedAlarmThreshold')),
    },
  };

  const account = read.string('account') ?? nonEmpty(env.CDK_DEFAULT_ACCOUNT);
  const region = read.string('region') ?? nonEmpty(env.CDK_DEFAULT_REGION);
  return {
    stage,
    ...optional('account', account),
    ...optional('region', region),
    throwaway,
    gamesTable: gamesTableOf(read, stage),
    upstashRedisRestUrl: required(read, 'upstashRedisRestUrl', stage),
    gameMasterBaseUrl: required(read, 'gameMasterBaseUrl', stage),
    ...optional('upstashTokenSecret', secretOf(read, 'upstashTokenSecret')),
    gameMasterAuth: read.boolean('gameMasterAuth') ?? DEFAULTS.gameMasterAuth,
    ...optional('gameMasterTokenSecret', secretOf(read, 'gameMasterTokenSecret')),
    ...optional('gameMasterTimeout', millis(gmTimeoutMs)),
    ...optional('alarmTopicArn', read.arn('alarmTopicArn', 'sns')),
    consumer,
  };
}

/** The stage file's keys, or none when the stage has no file; a key the app does not read is refused. */
function readStageFile(path: string): Readonly<Record<string, unknown>> {
  if (!existsSync(path)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${path} must hold one JSON object of context keys`);
  }
  for (const key of Object.keys(parsed)) {
    if (!(key in KEYS) || key === 'stage') {
      throw new ConfigError(key, `is not a key a stage file can set (${path})`);
    }
  }
  return parsed as Record<string, unknown>;
}

/** Lobby's table by name, or a demo table when asked for explicitly; neither is an error that names both. */
function gamesTableOf(read: ContextReader, stage: string): GamesTableSource {
  const name = read.tableName('gamesTableName');
  const keyArn = read.arn('gamesTableKeyArn', 'kms');
  const demo = read.boolean('demoGamesTable') ?? false;
  if (demo) {
    if (name !== undefined) {
      throw new ConfigError(
        'gamesTableName',
        'a demo stage (demoGamesTable=true) creates its games table; set one of the two',
      );
    }
    return { kind: 'demo' };
  }
  if (name === undefined) {
    throw new ConfigError(
      'gamesTableName',
      `stage "${stage}" names no games table: set gamesTableName to Lobby's table (or demoGamesTable=true for a demo stage ` +
        'that creates an empty one)',
    );
  }
  return { kind: 'imported', name, ...optional('keyArn', keyArn) };
}

function required(read: ContextReader, key: 'upstashRedisRestUrl' | 'gameMasterBaseUrl', stage: string): string {
  const value = read.string(key);
  if (value === undefined) throw new ConfigError(key, `stage "${stage}" does not set it`);
  return value;
}

function secretOf(
  read: ContextReader,
  prefix: 'upstashTokenSecret' | 'gameMasterTokenSecret',
): SecretReference | undefined {
  const name = read.secretName(`${prefix}Name`);
  const arn = read.arn(`${prefix}Arn`, 'secretsmanager');
  if (arn !== undefined && !/:secret:.+-[A-Za-z0-9]{6}$/.test(arn)) {
    throw new ConfigError(`${prefix}Arn`, 'expected the complete ARN, with the six characters Secrets Manager appends');
  }
  if (name !== undefined && arn !== undefined) {
    throw new ConfigError(`${prefix}Arn`, `set ${prefix}Name or ${prefix}Arn, not both`);
  }
  return name !== undefined ? { name } : arn !== undefined ? { arn } : undefined;
}

const minutes = (value: number | undefined) => (value === undefined ? undefined : Duration.minutes(value));
const seconds = (value: number | undefined) => (value === undefined ? undefined : Duration.seconds(value));
const millis = (value: number | undefined) => (value === undefined ? undefined : Duration.millis(value));

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** Spreads `{ [key]: value }` only when the value is defined, so optional keys stay absent. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
