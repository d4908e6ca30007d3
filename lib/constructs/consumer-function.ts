import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { renderEnvironment } from '../../functions/runtime-job-results/environment.js';
import { SERVICE_NAME } from '../metrics.js';
import type { ConsumerSettings } from '../settings.js';
import { DeadLetterQueue } from './dead-letter-queue.js';
import { SendOnlyQueueDestination } from './send-only-queue-destination.js';

/** Repository root (this file lives in `lib/constructs/`). */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The handler source bundled in a checkout. */
export const HANDLER_ENTRY = fileURLToPath(new URL('../../functions/runtime-job-results/handler.ts', import.meta.url));

/** The lock file that pins the bundled dependency versions (the AWS SDK among them). */
const DEPS_LOCK_FILE = fileURLToPath(new URL('../../package-lock.json', import.meta.url));

/**
 * Folder of the package's build (`dist/`) that holds the handler already bundled, beside the
 * compiled `lib/`. `npm pack` fills it (pack/build.ts), so an app that installs the package
 * needs neither esbuild nor Docker.
 */
export const PACKAGED_BUNDLE_FOLDER = 'function-bundle';

/** The packaged bundle as seen from this module once compiled (`dist/lib/constructs/`). */
const PACKAGED_BUNDLE_DIR = fileURLToPath(new URL(`../../${PACKAGED_BUNDLE_FOLDER}/`, import.meta.url));

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

/**
 * The handler bundled from source by NodejsFunction with the local esbuild: the one
 * definition of the bundle. A checkout deploys it; `npm pack` makes the packaged copy with it.
 */
export function handlerFromSource(scope: Construct, id: string, props: lambda.FunctionOptions): nodejs.NodejsFunction {
  return new nodejs.NodejsFunction(scope, id, {
    ...props,
    runtime: FUNCTION_RUNTIME,
    architecture: lambda.Architecture.ARM_64,
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
  });
}

/** Properties of {@link ConsumerFunction}. */
export interface ConsumerFunctionProps {
  /** The checked settings. */
  readonly settings: ConsumerSettings;
  /** Lobby's games table (`GAMES_TABLE`). */
  readonly gamesTable: dynamodb.ITable;
  /** Offsets and lease table (`OFFSETS_TABLE`). */
  readonly offsetsTable: dynamodb.ITable;
  /** Secret with the Upstash REST token (`UPSTASH_REDIS_REST_TOKEN_SECRET_ARN`). */
  readonly upstashToken: secretsmanager.ISecret;
  /**
   * Secret with the Game Master token (`GM_API_TOKEN_SECRET_ARN`).
   *
   * @default - Game Master calls are not authenticated and the variable is not set
   */
  readonly gameMasterToken?: secretsmanager.ISecret;
  /**
   * VPC of the function.
   *
   * @default - none
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets in {@link vpc}.
   *
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups in {@link vpc}.
   *
   * @default - one is created
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Code to deploy instead of the bundled handler; its `index.handler` must be the handler.
   *
   * @default - the packaged bundle, else the handler bundled from source
   */
  readonly code?: lambda.Code;
}

/**
 * The consumer function with everything that belongs to it alone: its role (no managed
 * policies; grants made through the CDK on exactly what it uses), its log group, and the
 * queue that receives failed asynchronous invocations.
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
    const { settings } = props;

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: settings.logRetention,
      removalPolicy: settings.removalPolicy,
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
    this.logGroup.grantWrite(this.role);
    if (props.vpc !== undefined) this.allowNetworkInterfaces();

    const options = {
      memorySize: settings.memorySizeMb,
      timeout: settings.timeout,
      // Drain mode: one invocation at a time; the offsets-table lease already serialises
      // consumers, and a second would only spend its time failing to take the lease. Follow
      // mode: two, or the next tick's invocation would be throttled while the previous one
      // follows, and retried by Lambda after the moment it was meant to take over.
      reservedConcurrentExecutions: settings.reservedConcurrency,
      // A failed run is not retried: the next tick re-reads from the stored offset anyway.
      retryAttempts: 0,
      // By then the next tick has arrived and the old one is pointless.
      maxEventAge: settings.schedule,
      onFailure: new SendOnlyQueueDestination(this.failureQueue),
      role: this.role,
      logGroup: this.logGroup,
      description: 'Applies Runtime Manager job results to Lobby games (start flow)',
      environment: environment(props),
      ...(settings.tracing ? { tracing: lambda.Tracing.ACTIVE } : {}),
      ...(props.vpc === undefined
        ? {}
        : {
            vpc: props.vpc,
            ...(props.vpcSubnets === undefined ? {} : { vpcSubnets: props.vpcSubnets }),
            ...(props.securityGroups === undefined ? {} : { securityGroups: props.securityGroups }),
          }),
    } satisfies lambda.FunctionOptions;

    const code = props.code ?? packagedBundle();
    this.function =
      code === undefined
        ? handlerFromSource(this, 'Function', options)
        : new lambda.Function(this, 'Function', {
            ...options,
            runtime: FUNCTION_RUNTIME,
            architecture: lambda.Architecture.ARM_64,
            code,
            handler: 'index.handler',
          });

    // Every request the handler makes is an UpdateItem (conditional writes, and the reads that
    // come back from writes with ReturnValues: the binding, the lease), except the one read of
    // a game whose entry is given up (GetItem). Nothing else (no Query/Scan/PutItem/DeleteItem),
    // hence no grantReadWriteData.
    props.gamesTable.grant(this.function, 'dynamodb:UpdateItem', 'dynamodb:GetItem');
    props.offsetsTable.grant(this.function, 'dynamodb:UpdateItem');
    // `grant()` covers the table only. An UpdateItem both writes an item and returns it, so a
    // table with a key of its own needs the key to encrypt and to decrypt.
    props.gamesTable.encryptionKey?.grantEncryptDecrypt(this.function);
    for (const token of [props.upstashToken, props.gameMasterToken]) {
      if (token === undefined) continue;
      token.grantRead(this.function);
      // grantRead lets the role use the secret's own key through the key's policy, which an
      // imported key (the team's) cannot take: say it in the role's policy as well, for
      // Secrets Manager's use of the key only.
      if (token.encryptionKey !== undefined) {
        this.role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['kms:Decrypt'],
            resources: [token.encryptionKey.keyArn],
            conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
          }),
        );
      }
    }

    this.acknowledge(props);
  }

  /**
   * What Lambda needs to create, find and delete the function's network interfaces in the
   * VPC: the statements of the AWSLambdaVPCAccessExecutionRole managed policy, as a policy of
   * its own so that its acknowledgement covers nothing else. A child of the role, so the
   * function (which depends on the role) is created after it.
   */
  private allowNetworkInterfaces(): void {
    const policy = new iam.Policy(this.role, 'NetworkInterfaces', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      ],
    });
    Validations.of(policy.node.defaultChild as iam.CfnPolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Lambda manages the network interfaces of a function in a VPC with the function role; ' +
        'ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets only accept Resource *, and the interfaces ' +
        'do not exist before Lambda creates them (the statements of AWSLambdaVPCAccessExecutionRole).',
    });
  }

  private acknowledge(props: ConsumerFunctionProps): void {
    const cfnFunction = this.function.node.defaultChild as lambda.CfnFunction;
    Validations.of(cfnFunction).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Failed asynchronous invocations go to an on-failure destination (an encrypted, TLS-only SQS ' +
        'queue with an alarm) whose records carry the request, the error and the failure condition; ' +
        'a DeadLetterConfig as well would deliver the same failures twice with less context.',
    });
    const policy = this.role.node.tryFindChild('DefaultPolicy')?.node.defaultChild as iam.CfnPolicy | undefined;
    if (props.settings.tracing) {
      if (policy !== undefined) {
        Validations.of(policy).acknowledge({
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'Active tracing (the tracing prop) needs xray:PutTraceSegments and xray:PutTelemetryRecords, ' +
            'which X-Ray only grants on Resource *; the CDK adds them with the tracing setting.',
        });
      }
    } else {
      Validations.of(cfnFunction).acknowledge({
        id: 'Serverless-LambdaTracing',
        reason:
          'Tracing is opt-in (the tracing prop, off by default): without it diagnosis relies on the ' +
          'Powertools structured logs and EMF metrics, and the function role has no xray:Put* grant on Resource *.',
      });
    }
    if (props.gamesTable.encryptionKey !== undefined && policy !== undefined) {
      for (const action of ['kms:ReEncrypt*', 'kms:GenerateDataKey*']) {
        Validations.of(policy).acknowledge({
          id: `AwsSolutions-IAM5[Action::${action}]`,
          reason:
            "The games table's own KMS key, granted with the CDK's grantEncryptDecrypt on that one key: " +
            'DynamoDB encrypts what an UpdateItem writes and decrypts what it returns with the table key.',
        });
      }
    }
  }
}

/** The packaged bundle's folder, when this module runs from an installed package. */
function packagedBundle(): lambda.Code | undefined {
  return existsSync(join(PACKAGED_BUNDLE_DIR, 'index.mjs')) ? lambda.Code.fromAsset(PACKAGED_BUNDLE_DIR) : undefined;
}

function environment(props: ConsumerFunctionProps): Record<string, string> {
  const { settings } = props;
  const { tuning } = settings;
  return {
    ...renderEnvironment({
      streams: settings.streams,
      upstash: { url: settings.upstashRestUrl, token: { kind: 'secret', arn: props.upstashToken.secretArn } },
      dynamodb: { gamesTable: props.gamesTable.tableName, offsetsTable: props.offsetsTable.tableName },
      gameMaster: {
        baseUrl: settings.gameMasterBaseUrl,
        timeoutMs: tuning.gmTimeoutMs,
        token:
          props.gameMasterToken === undefined ? undefined : { kind: 'secret', arn: props.gameMasterToken.secretArn },
      },
      consumer: {
        batchSize: tuning.batchSize,
        maxConcurrency: tuning.maxConcurrency,
        maxAttempts: tuning.maxAttempts,
        mode: tuning.mode,
        timeBudgetMarginMs: tuning.timeBudgetMarginMs,
        pollIntervalMs: tuning.pollIntervalMs,
      },
      telemetry: {
        serviceName: SERVICE_NAME,
        metricsNamespace: settings.metricsNamespace,
        logLevel: tuning.logLevel,
        ...(settings.stage === undefined ? {} : { stage: settings.stage }),
        // Set with the function's active tracing.
        ...(settings.tracing ? { tracing: true } : {}),
      },
    }),
    // Not the handler's: Node's own, to map minified stack traces back to the TypeScript sources.
    NODE_OPTIONS: '--enable-source-maps',
  };
}
