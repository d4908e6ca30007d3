/**
 * The props of {@link StartFlowConsumer}: what a platform team hands the construct. Every
 * optional prop says its default; the construct checks them all in its constructor and
 * throws a `StartFlowConsumerPropError` that names the prop it cannot deploy.
 */
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { ConsumerMode, LogLevel, StreamNames } from '../functions/runtime-job-results/environment.js';

/** The Upstash Redis database that holds the streams. */
export interface UpstashProps {
  /** REST endpoint, `https://…` without credentials (`UPSTASH_REDIS_REST_URL`). */
  readonly restUrl: string;
  /**
   * Secret holding the REST token as a plain string. The function gets its ARN
   * (`UPSTASH_REDIS_REST_TOKEN_SECRET_ARN`) and `grantRead`, which covers the secret's own
   * KMS key when the secret knows it.
   */
  readonly token: secretsmanager.ISecret;
}

/** Game Master, which registers every game that starts. */
export interface GameMasterProps {
  /** Base URL, `https://…` (`http://` only without a token), no credentials (`GM_BASE_URL`). */
  readonly baseUrl: string;
  /**
   * Secret holding the bearer token as a plain string (`GM_API_TOKEN_SECRET_ARN`).
   *
   * @default - Game Master calls carry no token
   */
  readonly token?: secretsmanager.ISecret;
  /**
   * Timeout of one Game Master call (`GM_TIMEOUT_MS`), 100 ms to 60 s.
   *
   * @default Duration.seconds(3)
   */
  readonly timeout?: Duration;
}

/** How the function works through the stream. The limits are the function's own (`environment.ts`). */
export interface TuningProps {
  /**
   * Stream entries read per batch (`BATCH_SIZE`), 1-1,000.
   *
   * @default 100
   */
  readonly batchSize?: number;
  /**
   * Entries of different games processed at once (`MAX_CONCURRENCY`), 1-256.
   *
   * @default 16
   */
  readonly maxConcurrency?: number;
  /**
   * Tries of an entry, across invocations, before it is dead-lettered (`MAX_ATTEMPTS`), 1-100.
   *
   * @default 5
   */
  readonly maxAttempts?: number;
  /**
   * `batched`, or `seed` for the Go worker's algorithm, one entry at a time (`CONSUMER_MODE`).
   *
   * @default 'batched'
   */
  readonly mode?: ConsumerMode;
}

/** When the alarms fire. */
export interface AlarmThresholdProps {
  /**
   * `LagAge` fires when the oldest unfinished entry is older than this (whole seconds, 60 s
   * to a day, longer than the schedule period).
   *
   * @default - 5 minutes, or two schedule periods if that is longer
   */
  readonly lagAge?: Duration;
  /**
   * `FunctionErrors` fires when the function reports at least this many errors in each of
   * 3 of the last 5 schedule periods.
   *
   * @default 1
   */
  readonly functionErrors?: number;
  /**
   * `DeadLetters` fires when at least this many entries are dead-lettered in 5 minutes.
   *
   * @default 1
   */
  readonly deadLetters?: number;
  /**
   * `GameMasterOutage` fires when at least this many games were paused in 5 minutes and they
   * are at least as many as the games that reached `running` meanwhile.
   *
   * @default 3
   */
  readonly pausedGames?: number;
}

/** Properties of {@link StartFlowConsumer}. */
export interface StartFlowConsumerProps {
  /**
   * Lobby's games table (partition key `gameId`, string). Never created by the construct.
   * The function gets `dynamodb:UpdateItem` on it (its reads come back from conditional
   * writes) and, when the table has an `encryptionKey`, the use of that key.
   */
  readonly gamesTable: dynamodb.ITable;
  /** The Upstash database and its token. */
  readonly upstash: UpstashProps;
  /** Game Master's URL and token. */
  readonly gameMaster: GameMasterProps;
  /**
   * VPC to run the function in, for a Game Master reachable only from inside it. The subnets
   * need a way to Upstash (NAT), DynamoDB and Secrets Manager (NAT or VPC endpoints).
   *
   * @default - the function runs outside any VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets of {@link vpc} for the function's network interfaces.
   *
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups of the function in {@link vpc}.
   *
   * @default - one security group is created, with all outbound traffic allowed
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Topic every alarm notifies, on ALARM and on OK. A topic encrypted with a customer-managed
   * key must let `cloudwatch.amazonaws.com` use that key.
   *
   * @default - a topic encrypted with a key of its own is created
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Time between two scheduled invocations: whole minutes, 1 to 60.
   *
   * @default Duration.minutes(1)
   */
  readonly schedule?: Duration;
  /**
   * Whether the schedule fires. `false` pauses the consumer without a teardown; the lag
   * alarm then treats its silence as expected.
   *
   * @default true
   */
  readonly scheduleEnabled?: boolean;
  /**
   * Follow mode: each invocation follows the stream until its timeout minus the margin, and
   * the next tick's invocation takes over (reserved concurrency 2). `false`: drain mode, each
   * invocation returns once the stream is drained (reserved concurrency 1).
   *
   * @default true
   */
  readonly followMode?: boolean;
  /**
   * Follow mode's poll interval (`POLL_INTERVAL_MS`), 1 ms to 60 s. Only follow mode polls.
   *
   * @default Duration.millis(250)
   */
  readonly pollInterval?: Duration;
  /**
   * Function timeout, whole seconds up to 900. In follow mode it must outlast the schedule
   * period by more than the margin and stay below two periods; in drain mode it must be
   * shorter than the period.
   *
   * @default - follow mode: the period, the margin and 10 s of hand-over; drain mode: the period less 10 s
   */
  readonly timeout?: Duration;
  /**
   * Time left unused before the deadline (`TIME_BUDGET_MARGIN_MS`), up to 900 s and below the
   * timeout. A follower stops following this long before its deadline.
   *
   * @default Duration.seconds(10)
   */
  readonly timeBudgetMargin?: Duration;
  /**
   * Function memory in MB, 128-10,240; Lambda's CPU share follows it.
   *
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * Active X-Ray tracing: `tracing: ACTIVE` on the function, `POWERTOOLS_TRACE_ENABLED=true`
   * in its environment, and the `xray:Put*` grant that comes with it.
   *
   * @default false
   */
  readonly tracing?: boolean;
  /**
   * Namespace of the function's metrics (`POWERTOOLS_METRICS_NAMESPACE`); the alarms and the
   * dashboard read this namespace.
   *
   * @default 'Galaxy/Lobby'
   */
  readonly metricsNamespace?: string;
  /**
   * Stage name, 1-20 lowercase letters, digits or dashes, starting with a letter (`STAGE`).
   * Every metric gets it as a `stage` dimension and every log line as a key; the alarms and
   * the dashboard read that stage's metrics only, and their names carry it. Give each
   * consumer in an account and region its own stage.
   *
   * @default - no stage: metrics carry no `stage` dimension and names leave it out
   */
  readonly stage?: string;
  /**
   * Stream names; the ones left out keep theirs.
   *
   * @default - `runtime:job_results`, `runtime:stop_jobs`, `notification:intents`, `runtime:job_results:dead`
   */
  readonly streams?: Partial<StreamNames>;
  /**
   * Batch size, concurrency, attempts and mode.
   *
   * @default - the function's defaults
   */
  readonly tuning?: TuningProps;
  /**
   * Powertools log level (`POWERTOOLS_LOG_LEVEL`).
   *
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;
  /**
   * Retention of the function's log group.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Physical name of the offsets table.
   *
   * @default - CloudFormation names it
   */
  readonly offsetsTableName?: string;
  /**
   * What happens to the state the construct creates (the offsets table, the log group, the
   * alarm topic's key) when it leaves the stack. `DESTROY` also turns the offsets table's
   * deletion protection off: for throwaway stages only. The offsets table holds the stream
   * position, which cannot be rebuilt once the stream is trimmed.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Alarm thresholds.
   *
   * @default - see each threshold
   */
  readonly alarmThresholds?: AlarmThresholdProps;
  /**
   * Code to deploy instead of the bundled handler; its `index.handler` must be this
   * project's handler. For tests, or a build of the same handler of your own.
   *
   * @default - the handler bundled by `npm pack`, or bundled from source with local esbuild in a checkout
   */
  readonly code?: lambda.Code;
}
