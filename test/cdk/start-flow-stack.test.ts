/**
 * The synthesized template of the repository's stack: `StartFlowConsumer` with the secrets,
 * the games table and the outputs the app adds. The function code is a pre-built inline stub
 * so these tests need neither esbuild nor Docker; bundling.test.ts covers the real bundle.
 * Logical ids are never spelled out: they come from the constructs via `stack.getLogicalId`.
 * The construct on its own, embedded with a team's resources: start-flow-consumer.test.ts.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { CfnResource, Stack } from 'aws-cdk-lib';
import type { CfnElement } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { addStartFlowStack } from '../../lib/app.js';
import type { StartFlowStack } from '../../lib/start-flow-stack.js';
import { FUNCTION_RUNTIME } from '../../lib/constructs/consumer-function.js';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  readonly context: Record<string, unknown>;
};

const URLS = { upstashRedisRestUrl: 'https://eu1-example.upstash.io', gameMasterBaseUrl: 'https://gm.example.com' };

/** Synthesizes the stack with cdk.json's context (feature flags included) plus overrides. */
function synth(overrides: Record<string, unknown> = {}) {
  const app = new App({ context: { ...cdkJson.context, ...URLS, ...overrides } });
  const { stack, config } = addStartFlowStack(app, {
    functionCode: lambda.Code.fromInline('export const handler = async () => ({});'),
    env: {},
  });
  return { app, stack, config, template: Template.fromStack(stack) };
}

/** Logical id of a construct's CloudFormation resource. */
function logicalId(stack: Stack, construct: IConstruct): string {
  const resource = (construct.node.defaultChild ?? construct) as CfnElement;
  return stack.getLogicalId(resource);
}

/** Narrows an optional value the test knows to be there. */
function defined<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('expected a value');
  return value;
}

/** The role EventBridge Scheduler assumes: the construct keeps it to itself. */
function schedulerRole(stack: StartFlowStack): iam.Role {
  return stack.consumer.node.findChild('Schedule').node.findChild('Role') as iam.Role;
}

const ref = (id: string) => ({ Ref: id });
/** The dimensions of the dev stage's metrics: Powertools' `service`, and the `stage` the stack sets. */
const STAGE_DIMENSIONS = [
  { Name: 'service', Value: 'lobby' },
  { Name: 'stage', Value: 'dev' },
];
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

const defaults = synth();

describe('data tables', () => {
  it('creates the games and offsets tables: on demand, PITR, deletion protection, retained', () => {
    const { stack, template } = defaults;
    template.resourceCountIs('AWS::DynamoDB::Table', 2);
    const tables = [
      [defaults.stack.gamesTable, 'gameId'],
      [defaults.stack.consumer.offsetsTable, 'consumer'],
    ] as const;
    for (const [table, key] of tables) {
      const resource = template.toJSON().Resources[logicalId(stack, table)];
      expect(resource).toMatchObject({
        Type: 'AWS::DynamoDB::Table',
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: {
          KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        },
      });
    }
  });

  it('imports the games table by name when Lobby already owns it, and creates none', () => {
    const { stack, template } = synth({
      stage: 'prod',
      gamesTableName: 'lobby-prod-games',
      offsetsTableName: 'start-flow-prod-offsets',
    });

    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'start-flow-prod-offsets',
      KeySchema: [{ AttributeName: 'consumer', KeyType: 'HASH' }],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ GAMES_TABLE: 'lobby-prod-games', STAGE: 'prod' }) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [ref(logicalId(stack, stack.consumer.role))],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  ref('AWS::Partition'),
                  ':dynamodb:',
                  ref('AWS::Region'),
                  ':',
                  ref('AWS::AccountId'),
                  ':table/lobby-prod-games',
                ],
              ],
            },
          }),
        ]),
      },
    });
    template.hasOutput('GamesTableName', { Value: 'lobby-prod-games', Description: 'Imported (owned by Lobby)' });
  });

  it("grants the use of the games table's own key when the stage names it", () => {
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    const { stack, template } = synth({ stage: 'prod', gamesTableName: 'lobby-prod-games', gamesTableKeyArn: keyArn });
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [ref(logicalId(stack, stack.consumer.role))],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['kms:Decrypt', 'kms:Encrypt']), Resource: keyArn }),
        ]),
      },
    });
  });

  it('lets a throwaway stage delete its stateful resources', () => {
    const { template } = synth({ stage: 'scratch', throwaway: 'true', demoGamesTable: true });

    for (const type of [
      'AWS::DynamoDB::Table',
      'AWS::SecretsManager::Secret',
      'AWS::Logs::LogGroup',
      'AWS::KMS::Key',
    ]) {
      const resources = Object.values(template.findResources(type));
      expect(resources.length, type).toBeGreaterThan(0);
      for (const resource of resources) expect(resource, type).toMatchObject({ DeletionPolicy: 'Delete' });
    }
    template.allResourcesProperties('AWS::DynamoDB::Table', {
      DeletionProtectionEnabled: false,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });
});

describe('consumer function', () => {
  it('is an arm64 function on the newest Node.js runtime with explicit memory, timeout and concurrency', () => {
    const { stack, template } = defaults;
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 1024,
      // Follow mode: the timeout outlasts the 60 s period, and two may run at a hand-over.
      Timeout: 80,
      ReservedConcurrentExecutions: 2,
      Role: arnOf(logicalId(stack, stack.consumer.role)),
      LoggingConfig: { LogGroup: ref(logicalId(stack, stack.consumer.logGroup)) },
    });
  });

  it('uses the newest Node.js runtime that the pinned aws-cdk-lib offers', () => {
    const version = (runtime: lambda.Runtime) => Number(/^nodejs(\d+)/.exec(runtime.name)?.[1] ?? 0);
    const newest = Math.max(...lambda.Runtime.ALL.filter((runtime) => runtime.name.startsWith('nodejs')).map(version));
    expect(version(FUNCTION_RUNTIME)).toBe(newest);
  });

  it('gets exactly the documented environment, with tokens referenced by secret ARN only', () => {
    const { stack, template } = defaults;
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.exact({
          RESULTS_STREAM: 'runtime:job_results',
          STOP_JOBS_STREAM: 'runtime:stop_jobs',
          NOTIFICATION_INTENTS_STREAM: 'notification:intents',
          DEAD_LETTER_STREAM: 'runtime:job_results:dead',
          UPSTASH_REDIS_REST_URL: URLS.upstashRedisRestUrl,
          UPSTASH_REDIS_REST_TOKEN_SECRET_ARN: ref(logicalId(stack, stack.secrets.upstashToken.secret)),
          GAMES_TABLE: ref(logicalId(stack, stack.gamesTable)),
          OFFSETS_TABLE: ref(logicalId(stack, stack.consumer.offsetsTable)),
          GM_BASE_URL: URLS.gameMasterBaseUrl,
          GM_TIMEOUT_MS: '3000',
          GM_API_TOKEN_SECRET_ARN: ref(logicalId(stack, defined(stack.secrets.gameMasterToken).secret)),
          BATCH_SIZE: '100',
          MAX_CONCURRENCY: '16',
          MAX_ATTEMPTS: '5',
          CONSUMER_MODE: 'batched',
          TIME_BUDGET_MARGIN_MS: '10000',
          POLL_INTERVAL_MS: '250',
          POWERTOOLS_SERVICE_NAME: 'lobby',
          POWERTOOLS_METRICS_NAMESPACE: 'Galaxy/Lobby',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          STAGE: 'dev',
          NODE_OPTIONS: '--enable-source-maps',
        }),
      },
    });
  });

  it('passes tuning values from context', () => {
    const { template } = synth({
      batchSize: 25,
      maxConcurrency: '4',
      consumerMode: 'seed',
      logLevel: 'DEBUG',
      gmTimeoutMs: 1500,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          BATCH_SIZE: '25',
          MAX_CONCURRENCY: '4',
          CONSUMER_MODE: 'seed',
          POWERTOOLS_LOG_LEVEL: 'DEBUG',
          GM_TIMEOUT_MS: '1500',
        }),
      },
    });
  });

  it('is not retried and sends failed invocations to an encrypted queue', () => {
    const { stack, template } = defaults;
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: ref(logicalId(stack, stack.consumer.function)),
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
      DestinationConfig: { OnFailure: { Destination: arnOf(logicalId(stack, stack.consumer.failedInvocationsQueue)) } },
    });
  });

  it('in drain mode, runs one at a time, never follows, and keeps the timeout below the period', () => {
    const { template } = synth({ followMode: false });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 50,
      ReservedConcurrentExecutions: 1,
      Environment: { Variables: Match.objectLike({ POLL_INTERVAL_MS: '0' }) },
    });
  });

  it('keeps the timeout below the schedule period for slower schedules in drain mode', () => {
    const { template } = synth({ scheduleRateMinutes: 5, followMode: false });
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 290 });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumEventAgeInSeconds: 300 });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(5 minutes)' });
    // The lag alarm follows: one datapoint per period, and a default threshold of two periods.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'lobby.start_flow.consumer_lag_age',
      Period: 300,
      Threshold: 600_000,
    });
  });

  it('logs to its own log group with a retention period', () => {
    const { template } = synth({ logRetentionDays: 90 });
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 90 }, DeletionPolicy: 'Retain' });
  });
});

describe('IAM', () => {
  const policiesOf = (template: Template, roleId: string) =>
    Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [ref(roleId)] } }));

  it('gives the function exactly its statements, nothing managed and nothing inline', () => {
    const { stack, template } = defaults;
    const roleId = logicalId(stack, stack.consumer.role);

    expect(template.toJSON().Resources[roleId]).toMatchObject({
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
        },
      },
    });
    expect(template.toJSON().Resources[roleId].Properties).not.toHaveProperty('ManagedPolicyArns');
    expect(template.toJSON().Resources[roleId].Properties).not.toHaveProperty('Policies');

    const policies = policiesOf(template, roleId);
    expect(policies).toHaveLength(1);
    const statements = policies[0]?.Properties.PolicyDocument.Statement as unknown[];
    expect(statements).toHaveLength(5);
    expect(statements).toEqual(
      expect.arrayContaining([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: arnOf(logicalId(stack, stack.consumer.logGroup)),
        },
        {
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
          Resource: arnOf(logicalId(stack, stack.gamesTable)),
        },
        {
          Effect: 'Allow',
          Action: 'dynamodb:UpdateItem',
          Resource: arnOf(logicalId(stack, stack.consumer.offsetsTable)),
        },
        {
          Effect: 'Allow',
          Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
          Resource: expect.arrayContaining([
            ref(logicalId(stack, stack.secrets.upstashToken.secret)),
            ref(logicalId(stack, defined(stack.secrets.gameMasterToken).secret)),
          ]),
        },
        {
          Sid: 'DeliverFailedInvocationRecords',
          Effect: 'Allow',
          Action: 'sqs:SendMessage',
          Resource: arnOf(logicalId(stack, stack.consumer.failedInvocationsQueue)),
        },
      ]),
    );
  });

  it('reads imported secrets by name with exactly the six-character suffix, and no GM secret without GM auth', () => {
    const { stack, template } = synth({ upstashTokenSecretName: 'galaxy/prod/upstash-token', gameMasterAuth: false });
    const policies = policiesOf(template, logicalId(stack, stack.consumer.role));
    const partialArn = [
      'arn:',
      ref('AWS::Partition'),
      ':secretsmanager:',
      ref('AWS::Region'),
      ':',
      ref('AWS::AccountId'),
      ':secret:galaxy/prod/upstash-token',
    ];

    expect(policies[0]?.Properties.PolicyDocument.Statement).toContainEqual({
      Effect: 'Allow',
      Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      Resource: { 'Fn::Join': ['', [...partialArn.slice(0, -1), ':secret:galaxy/prod/upstash-token-??????']] },
    });
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    const variables = template.findResources('AWS::Lambda::Function');
    const environment = Object.values(variables)[0]?.Properties.Environment.Variables as Record<string, unknown>;
    expect(environment).not.toHaveProperty('GM_API_TOKEN_SECRET_ARN');
    expect(environment.UPSTASH_REDIS_REST_TOKEN_SECRET_ARN).toEqual({ 'Fn::Join': ['', partialArn] });
  });

  it('imports a secret by its complete ARN', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:galaxy/prod/gm-AbCdEf';
    const { template } = synth({ gameMasterTokenSecretArn: arn });
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ GM_API_TOKEN_SECRET_ARN: arn }) },
    });
  });

  it('lets the scheduler invoke the unqualified function and dead-letter, nothing more', () => {
    const { stack, template } = defaults;
    const roleId = logicalId(stack, schedulerRole(stack));

    expect(template.toJSON().Resources[roleId].Properties).toMatchObject({
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId'), 'aws:SourceArn': expect.anything() },
            },
          },
        ],
      },
    });
    const policies = policiesOf(template, roleId);
    expect(policies).toHaveLength(1);
    expect(policies[0]?.Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'InvokeConsumer',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: arnOf(logicalId(stack, stack.consumer.function)),
      },
      {
        Sid: 'DeadLetterUndeliveredTicks',
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: arnOf(logicalId(stack, stack.consumer.undeliveredTicksQueue)),
      },
    ]);
  });

  it('has no wildcard action or resource in any identity policy', () => {
    const { template } = defaults;
    template.resourceCountIs('AWS::IAM::Policy', 2);
    template.resourceCountIs('AWS::IAM::Role', 2);
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      for (const statement of policy.Properties.PolicyDocument.Statement as { Action: unknown; Resource: unknown }[]) {
        expect(JSON.stringify(statement.Action)).not.toContain('*');
        expect(JSON.stringify(statement.Resource)).not.toContain('*');
      }
    }
  });
});

describe('schedule', () => {
  it('invokes the function every minute through EventBridge Scheduler with a dead-letter queue', () => {
    const { stack, template } = defaults;
    template.resourceCountIs('AWS::Scheduler::Schedule', 1);
    template.resourceCountIs('AWS::Events::Rule', 0);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: arnOf(logicalId(stack, stack.consumer.function)),
        RoleArn: arnOf(logicalId(stack, schedulerRole(stack))),
        DeadLetterConfig: { Arn: arnOf(logicalId(stack, stack.consumer.undeliveredTicksQueue)) },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 },
        Input: Match.serializedJson({
          source: 'galaxy.start-flow.schedule',
          scheduledTime: '<aws.scheduler.scheduled-time>',
          executionId: '<aws.scheduler.execution-id>',
        }),
      },
    });
  });

  it('can be created disabled', () => {
    synth({ scheduleEnabled: false }).template.hasResourceProperties('AWS::Scheduler::Schedule', { State: 'DISABLED' });
  });
});

describe('dead-letter queues', () => {
  it('are encrypted, TLS-only and keep messages for 14 days', () => {
    const { stack, template } = defaults;
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.allResourcesProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Galaxy/Lobby',
      MetricName: 'lobby.start_flow.offset_ahead_of_stream',
      Dimensions: STAGE_DIMENSIONS,
      Statistic: 'Sum',
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Galaxy/Lobby',
      MetricName: 'lobby.start_flow.publish_abandoned',
      Dimensions: STAGE_DIMENSIONS,
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmDescription: Match.stringLikeRegexp('npm run ops -- replay'),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Galaxy/Lobby',
      MetricName: 'lobby.start_flow.entries_trimmed',
      Dimensions: STAGE_DIMENSIONS,
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    for (const queue of [stack.consumer.failedInvocationsQueue, stack.consumer.undeliveredTicksQueue]) {
      const id = logicalId(stack, queue);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [ref(id)],
        PolicyDocument: {
          Statement: [
            {
              Effect: 'Deny',
              Action: 'sqs:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Resource: arnOf(id),
            },
          ],
        },
      });
    }
  });
});

describe('secrets', () => {
  it('are created as placeholders generated by Secrets Manager, never with a value', () => {
    const { template } = defaults;
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    for (const name of ['upstash-redis-rest-token', 'game-master-api-token']) {
      template.hasResource('AWS::SecretsManager::Secret', {
        DeletionPolicy: 'Retain',
        Properties: {
          Name: `galaxy/dev/start-flow/${name}`,
          GenerateSecretString: { PasswordLength: 32, ExcludePunctuation: true },
          SecretString: Match.absent(),
        },
      });
    }
  });

  it('never reach the template, even when the tokens are in the deploying shell', () => {
    const sentinels = {
      UPSTASH_REDIS_REST_TOKEN: 'sentinel-upstash-token-4f1d2c',
      GM_API_TOKEN: 'sentinel-game-master-token-9a7e3b',
    };
    const saved = Object.fromEntries(Object.keys(sentinels).map((key) => [key, process.env[key]]));
    Object.assign(process.env, sentinels);
    try {
      for (const variant of [
        {},
        { upstashTokenSecretName: 'galaxy/prod/upstash', gameMasterTokenSecretName: 'galaxy/prod/gm' },
      ]) {
        const { template } = synth(variant);
        const json = JSON.stringify(template.toJSON());
        for (const value of Object.values(sentinels)) expect(json).not.toContain(value);
        expect(json).not.toMatch(/"SecretString"/);
        const variables = Object.values(template.findResources('AWS::Lambda::Function'))[0]?.Properties.Environment
          .Variables as Record<string, unknown>;
        // Only *_SECRET_ARN variables may mention a token.
        expect(Object.keys(variables).filter((key) => /TOKEN/.test(key))).toEqual([
          'UPSTASH_REDIS_REST_TOKEN_SECRET_ARN',
          'GM_API_TOKEN_SECRET_ARN',
        ]);
      }
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});

describe('monitoring', () => {
  it('publishes to an SNS topic encrypted with a rotated customer-managed key CloudWatch may use', () => {
    const { stack, template } = defaults;
    const keyIds = Object.keys(template.findResources('AWS::KMS::Key'));
    expect(keyIds).toHaveLength(1);
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: arnOf(defined(keyIds[0])) });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [ref(logicalId(stack, stack.consumer.alarmTopic))],
      PolicyDocument: {
        Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })],
      },
    });
  });

  it('alarms on errors, throttles, lag, dead letters, a Game Master outage, an offset past the stream, messages given up, trimmed entries and both dead-letter queues, notifying on ALARM and OK', () => {
    const { stack, template } = defaults;
    const topic = [ref(logicalId(stack, stack.consumer.alarmTopic))];
    template.resourceCountIs('AWS::CloudWatch::Alarm', 10);
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: topic, OKActions: topic });
    expect(
      Object.values(stack.consumer.alarms)
        .map((alarm) => alarm.node.id)
        .sort(),
    ).toEqual(
      [
        'DeadLetters',
        'EntriesTrimmed',
        'FailedInvocations',
        'FunctionErrors',
        'GameMasterOutage',
        'LagAge',
        'OffsetAheadOfStream',
        'PublishAbandoned',
        'Throttles',
        'UndeliveredTicks',
      ].sort(),
    );

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: ref(logicalId(stack, stack.consumer.function)) }],
      Statistic: 'Sum',
      Threshold: 1,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Galaxy/Lobby',
      MetricName: 'lobby.start_flow.consumer_lag_age',
      Dimensions: STAGE_DIMENSIONS,
      Statistic: 'Maximum',
      Threshold: 300_000,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Galaxy/Lobby',
      MetricName: 'lobby.start_flow.dead_letters',
      Dimensions: STAGE_DIMENSIONS,
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    for (const queue of [stack.consumer.failedInvocationsQueue, stack.consumer.undeliveredTicksQueue]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'NumberOfMessagesSent',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, queue), 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  it('does not treat a silent lag metric as breaching on a stage whose schedule is disabled', () => {
    synth({ scheduleEnabled: false }).template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'lobby.start_flow.consumer_lag_age',
      TreatMissingData: 'notBreaching',
    });
  });

  it('takes alarm thresholds from context', () => {
    const { template } = synth({
      lagAlarmThresholdSeconds: '120',
      errorAlarmThreshold: 3,
      deadLetterAlarmThreshold: 5,
      pausedAlarmThreshold: '7',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([Match.objectLike({ Expression: Match.stringLikeRegexp('FILL\\(paused, 0\\) >= 7 ') })]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'lobby.start_flow.consumer_lag_age',
      Threshold: 120_000,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Threshold: 3 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'lobby.start_flow.dead_letters',
      Threshold: 5,
    });
  });

  it('has a dashboard with outcomes, transitions, lag, dead letters, duration, errors and follow mode', () => {
    const { template } = defaults;
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]?.Properties.DashboardName).toEqual({
      'Fn::Join': ['', ['galaxy-start-flow-dev-', ref('AWS::Region')]],
    });

    // The body is an Fn::Join of JSON text and tokens; tokens only occur inside JSON strings.
    const parts = dashboards[0]?.Properties.DashboardBody['Fn::Join'][1] as unknown[];
    const body = JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('')) as {
      widgets: { properties: { title?: string; metrics?: unknown[][] } }[];
    };
    const widgets = new Map(body.widgets.map((widget) => [widget.properties.title, widget.properties]));
    expect([...widgets.keys()]).toEqual([
      'Alarms',
      'Start flow outcomes',
      'Game status transitions',
      'Consumer lag',
      'Entries by result',
      'Dead letters and transient errors',
      'Duration',
      'Invocations and errors',
      'Follow mode',
    ]);
    for (const name of ['followed_time', 'handover_wait', 'empty_polls']) {
      expect(JSON.stringify(widgets.get('Follow mode')?.metrics)).toContain(`lobby.start_flow.${name}`);
    }

    const metricsOf = (title: string) => JSON.stringify(widgets.get(title)?.metrics);
    for (const outcome of ['running', 'paused', 'start_failed']) {
      expect(metricsOf('Start flow outcomes')).toContain(
        `["Galaxy/Lobby","lobby.start_flow.outcomes","outcome","${outcome}","service","lobby","stage","dev"`,
      );
    }
    expect(metricsOf('Game status transitions')).toContain(
      'SEARCH(\'{Galaxy/Lobby,service,stage,from_status,to_status,trigger} MetricName=\\"lobby.game.transitions\\" service=\\"lobby\\" stage=\\"dev\\"\'',
    );
    expect(metricsOf('Consumer lag')).toContain(
      '["Galaxy/Lobby","lobby.start_flow.consumer_lag_age","service","lobby","stage","dev"',
    );
    expect(metricsOf('Consumer lag')).toContain(
      '["Galaxy/Lobby","lobby.start_flow.consumer_lag_entries","service","lobby","stage","dev"',
    );
    expect(metricsOf('Dead letters and transient errors')).toContain(
      '"lobby.start_flow.dead_letters","service","lobby","stage","dev"',
    );
    expect(metricsOf('Dead letters and transient errors')).toContain(
      '"lobby.start_flow.transient_errors","service","lobby","stage","dev"',
    );
    expect(metricsOf('Dead letters and transient errors')).toContain(
      '"lobby.start_flow.publish_abandoned","service","lobby","stage","dev"',
    );
    expect(metricsOf('Dead letters and transient errors')).toContain(
      '"lobby.start_flow.entries_trimmed","service","lobby","stage","dev"',
    );
    expect(metricsOf('Duration')).toContain('"AWS/Lambda","Duration"');
    expect(metricsOf('Invocations and errors')).toContain('"AWS/Lambda","Errors"');
  });
});

describe('configuration surface', () => {
  it('synthesizes the dev stage with no context at all: its file asks for a demo table and names placeholder URLs, which warn', () => {
    const app = new App({ context: cdkJson.context });
    const { stack, config } = addStartFlowStack(app, {
      functionCode: lambda.Code.fromInline('export const handler = 1;'),
      env: {},
    });
    expect(config.gamesTable).toEqual({ kind: 'demo' });
    Template.fromStack(stack).resourceCountIs('AWS::DynamoDB::Table', 2);
    const annotations = Annotations.fromStack(stack);
    annotations.hasWarning('*', Match.stringLikeRegexp('upstash.restUrl is https://upstash.invalid'));
    annotations.hasWarning('*', Match.stringLikeRegexp('gameMaster.baseUrl is https://game-master.invalid'));
  });

  it('names the stack after the stage and pins the environment given in context', () => {
    const { stack } = synth({
      stage: 'prod',
      account: '123456789012',
      region: 'eu-west-1',
      gamesTableName: 'lobby-prod-games',
    });
    expect(stack.stackName).toBe('GalaxyStartFlow-prod');
    expect(stack.account).toBe('123456789012');
    expect(stack.region).toBe('eu-west-1');
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Dashboard', {
      DashboardName: 'galaxy-start-flow-prod-eu-west-1',
    });
  });

  it('keeps the logical ids a stage had before it was built from the construct', () => {
    const { stack } = defaults;
    // The same paths in a stack of their own, as the stack laid them out before.
    const before = new Stack(new App(), 'Before');
    const idAt = (path: string): string => {
      const parts = path.split('/');
      let scope: Construct = before;
      for (const part of parts.slice(0, -1))
        scope = (scope.node.tryFindChild(part) as Construct) ?? new Construct(scope, part);
      return before.getLogicalId(new CfnResource(scope, parts.at(-1) ?? '', { type: 'Test::Resource' }));
    };
    expect(logicalId(stack, stack.consumer.offsetsTable)).toBe(idAt('Tables/OffsetsTable/Resource'));
    expect(logicalId(stack, stack.gamesTable)).toBe(idAt('Tables/GamesTable/Resource'));
    expect(logicalId(stack, stack.consumer.function)).toBe(idAt('Consumer/Function/Resource'));
    expect(logicalId(stack, stack.consumer.logGroup)).toBe(idAt('Consumer/LogGroup/Resource'));
    expect(logicalId(stack, stack.consumer.alarmTopic)).toBe(idAt('Monitoring/AlarmTopic/Resource'));
    expect(logicalId(stack, stack.secrets.upstashToken.secret)).toBe(idAt('Secrets/UpstashRedisRestToken/Resource'));
  });

  it('exports what an operator needs', () => {
    const outputs = Object.keys(defaults.template.findOutputs('*'));
    expect(outputs.sort()).toEqual(
      [
        'AlarmTopicArn',
        'DashboardName',
        'FailedInvocationsQueueUrl',
        'FunctionName',
        'GameMasterTokenSecretArn',
        'GamesTableName',
        'OffsetsTableName',
        'UndeliveredTicksQueueUrl',
        'UpstashTokenSecretArn',
      ].sort(),
    );
  });
});
