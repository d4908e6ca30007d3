import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { renderEnvironment } from '../../functions/runtime-job-results/environment.js';
import type { StreamNames } from '../../functions/runtime-job-results/environment.js';
import { DEFAULTS } from '../config.js';
import type { ConsumerTuning } from '../config.js';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../metrics.js';
import type { ConsumerSecret } from './consumer-secrets.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { SendOnlyQueueDestination } from './send-only-queue-destination.js';

/** Repository root (this file lives in `lib/constructs/`). */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The handler source bundled by default. */
export const HANDLER_ENTRY = fileURLToPath(new URL('../../functions/runtime-job-results/handler.ts', import.meta.url));

/** The lock file that pins the bundled dependency versions (the AWS SDK among them). */
const DEPS_LOCK_FILE = fileURLToPath(new URL('../../package-lock.json', import.meta.url));

/** The Lambda runtime: the newest Node.js runtime the pinned aws-cdk-lib knows. */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * ESM banner giving bundled CommonJS dependencies a working `require`. esbuild's ESM output
 * only has a `__require` shim that throws for Node built-ins; `createRequire` is imported under
 * an alias so it cannot clash with a bundled module that imports `createRequire` itself.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __galaxyCreateRequire } from 'node:module';" +
  'const require = __galaxyCreateRequire(import.meta.url);';

/** Properties of {@link ConsumerFunction}. */
export interface ConsumerFunctionProps {
  /** Function timeout: shorter than the schedule period in drain mode, longer in follow mode. */
  readonly timeout: Duration;
  /**
   * Invocations that may run at once: 1 for drain mode; 2 for follow mode, where each tick's
   * invocation starts while the previous one still follows and waits to take over from it.
   *
   * @default 1
   */
  readonly reservedConcurrency?: number;
  /** Games table (`GAMES_TABLE`). */
  readonly gamesTable: dynamodb.ITable;
  /** Offsets and lease table (`OFFSETS_TABLE`). */
  readonly offsetsTable: dynamodb.ITable;
  /** Secret with the Upstash REST token (`UPSTASH_REDIS_REST_TOKEN_SECRET_ARN`). */
  readonly upstashToken: ConsumerSecret;
  /**
   * Secret with the Game Master token (`GM_API_TOKEN_SECRET_ARN`).
   *
   * @default - Game Master calls are not authenticated and the variable is not set
   */
  readonly gameMasterToken?: ConsumerSecret;
  /** Upstash REST endpoint (`UPSTASH_REDIS_REST_URL`). */
  readonly upstashRedisRestUrl: string;
  /** Game Master base URL (`GM_BASE_URL`). */
  readonly gameMasterBaseUrl: string;
  /** Stream names. */
  readonly streams: StreamNames;
  /** Tuning values for the environment. */
  readonly tuning: ConsumerTuning;
  /**
   * Memory in MB (Lambda gives CPU in proportion to it: one vCPU at 1,769 MB).
   *
   * @default DEFAULTS.memorySizeMb (1,024)
   */
  readonly memorySize?: number;
  /**
   * Retention of the function's log group.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Removal policy of the log group.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * How long Lambda keeps trying to run a queued asynchronous invocation. Set it to the
   * schedule period: by then the next tick has arrived and the old one is pointless.
   *
   * @default Duration.minutes(1)
   */
  readonly maxEventAge?: Duration;
  /**
   * Pre-built code to deploy instead of bundling {@link HANDLER_ENTRY} with esbuild; its
   * `index.handler` must be the handler. Meant for tests that do not need a real bundle.
   *
   * @default - the handler is bundled from source with local esbuild
   */
  readonly code?: lambda.Code;
}

/**
 * The consumer function with everything that belongs to it alone: its role (written statement
 * by statement, no managed policies), its log group, and the queue that receives failed
 * asynchronous invocations.
 */
export class ConsumerFunction extends Construct {
  /** The function. */
  readonly function: lambda.Function;
  /** The function's log group. */
  readonly logGroup: logs.LogGroup;
  /** Receives the invocation record of every failed asynchronous invocation. */
  readonly failureQueue: sqs.Queue;
  /** The execution role. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ConsumerFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.failureQueue = new DeadLetterQueue(this, 'FailedInvocations', {
      holds: 'failed asynchronous invocations of the consumer function',
    }).queue;

    // An own role rather than the default one, which carries the AWSLambdaBasicExecutionRole
    // managed policy (logs on every log group of the account).
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Execution role of the start-flow consumer',
    });
    for (const statement of this.policyStatements(props)) this.role.addToPrincipalPolicy(statement);

    const memorySize = props.memorySize ?? DEFAULTS.memorySizeMb;
    const common = {
      runtime: FUNCTION_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize,
      timeout: props.timeout,
      // Drain mode: one invocation at a time; the offsets-table lease already serialises
      // consumers, and a second would only spend its time failing to take the lease. Follow
      // mode: two, or the next tick's invocation would be throttled while the previous one
      // follows, and retried by Lambda after the moment it was meant to take over.
      reservedConcurrentExecutions: props.reservedConcurrency ?? 1,
      // A failed run is not retried: the next tick re-reads from the stored offset anyway.
      retryAttempts: 0,
      maxEventAge: props.maxEventAge ?? Duration.minutes(1),
      onFailure: new SendOnlyQueueDestination(this.failureQueue),
      role: this.role,
      logGroup: this.logGroup,
      description: 'Applies Runtime Manager job results to Lobby games (start flow)',
      environment: this.environment(props),
    } satisfies Partial<lambda.FunctionProps>;

    this.function =
      props.code === undefined
        ? new nodejs.NodejsFunction(this, 'Function', {
            ...common,
            entry: HANDLER_ENTRY,
            handler: 'handler',
            projectRoot: PROJECT_ROOT,
            depsLockFilePath: DEPS_LOCK_FILE,
            bundling: {
              // No Docker on build machines: bundle with the esbuild from devDependencies.
              forceDockerBundling: false,
              format: nodejs.OutputFormat.ESM,
              mainFields: ['module', 'main'],
              banner: ESM_REQUIRE_BANNER,
              minify: true,
              sourceMap: true,
              sourcesContent: false,
              // Bundle the AWS SDK at the locked version instead of the runtime's copy, so the
              // code runs against the SDK it was tested with.
              externalModules: [],
            },
          })
        : new lambda.Function(this, 'Function', {
            ...common,
            code: props.code,
            handler: 'index.handler',
          });

    const cfnFunction = this.function.node.defaultChild as lambda.CfnFunction;
    Validations.of(cfnFunction).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Failed asynchronous invocations go to an on-failure destination (an encrypted, TLS-only SQS ' +
        'queue with an alarm) whose records carry the request, the error and the failure condition; ' +
        'a DeadLetterConfig as well would deliver the same failures twice with less context.',
    });
    Validations.of(cfnFunction).acknowledge({
      id: 'Serverless-LambdaTracing',
      reason:
        'The handler does not use an X-Ray SDK or the Powertools Tracer, so active tracing would only ' +
        'record an invocation span; diagnosis relies on Powertools structured logs and EMF metrics, ' +
        'and tracing would add an xray:Put* grant on Resource::*.',
    });
  }

  /** The function's complete set of permissions, apart from the destination's sqs:SendMessage. */
  private policyStatements(props: ConsumerFunctionProps): iam.PolicyStatement[] {
    const statements = [
      new iam.PolicyStatement({
        sid: 'WriteOwnLogGroup',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
      // Every request the handler makes is an UpdateItem: conditional writes, and the reads,
      // which come back from writes (the claim, the lease) with ReturnValues. Nothing else
      // (no GetItem/Query/Scan/PutItem/DeleteItem), hence no grantReadWriteData.
      new iam.PolicyStatement({
        sid: 'GamesTableItems',
        actions: ['dynamodb:UpdateItem'],
        resources: [props.gamesTable.tableArn],
      }),
      new iam.PolicyStatement({
        sid: 'OffsetsTableItems',
        actions: ['dynamodb:UpdateItem'],
        resources: [props.offsetsTable.tableArn],
      }),
    ];
    const secrets = [props.upstashToken, ...(props.gameMasterToken === undefined ? [] : [props.gameMasterToken])];
    statements.push(
      new iam.PolicyStatement({
        sid: 'ReadTokens',
        actions: ['secretsmanager:GetSecretValue'],
        resources: secrets.map((secret) => secret.policyArn),
      }),
    );
    return statements;
  }

  private environment(props: ConsumerFunctionProps): Record<string, string> {
    const { tuning } = props;
    return {
      ...renderEnvironment({
        streams: props.streams,
        upstash: {
          url: props.upstashRedisRestUrl,
          token: { kind: 'secret', arn: props.upstashToken.environmentArn },
        },
        dynamodb: { gamesTable: props.gamesTable.tableName, offsetsTable: props.offsetsTable.tableName },
        gameMaster: {
          baseUrl: props.gameMasterBaseUrl,
          timeoutMs: tuning.gmTimeoutMs,
          token:
            props.gameMasterToken === undefined
              ? undefined
              : { kind: 'secret', arn: props.gameMasterToken.environmentArn },
        },
        consumer: {
          batchSize: tuning.batchSize,
          maxConcurrency: tuning.maxConcurrency,
          maxAttempts: tuning.maxAttempts,
          mode: tuning.mode,
          timeBudgetMarginMs: tuning.timeBudgetMarginMs,
          pollIntervalMs: tuning.pollIntervalMs,
        },
        telemetry: { serviceName: SERVICE_NAME, metricsNamespace: METRICS_NAMESPACE, logLevel: tuning.logLevel },
      }),
      // Not the handler's: Node's own, to map minified stack traces back to the TypeScript sources.
      NODE_OPTIONS: '--enable-source-maps',
    };
  }
}
