/**
 * The synthesized template of the start-flow stack. The function code is a pre-built inline
 * stub so these tests need neither esbuild nor Docker; bundling.test.ts covers the real bundle.
 * Logical ids are never spelled out: they come from the constructs via `stack.getLogicalId`.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { addStartFlowStack } from '../../lib/app.js';
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

const ref = (id: string) => ({ Ref: id });
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

const defaults = synth();

describe('data tables', () => {
  it('creates the games and offsets tables: on demand, PITR, deletion protection, retained', () => {
    const { stack, template } = defaults;
    template.resourceCountIs('AWS::DynamoDB::Table', 2);
    const tables = [
      [defaults.stack.tables.gamesTable, 'gameId'],
      [defaults.stack.tables.offsetsTable, 'consumer'],
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

  it('imports the games table by name when Lobby already owns it', () => {
    const { stack, template } = synth({
      gamesTableName: 'lobby-prod-games',
      offsetsTableName: 'start-flow-prod-offsets',
    });

    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'start-flow-prod-offsets',
      KeySchema: [{ AttributeName: 'consumer', KeyType: 'HASH' }],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ GAMES_TABLE: 'lobby-prod-games' }) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [ref(logicalId(stack, stack.consumer.role))],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'GamesTableItems',
            Effect: 'Allow',
            Action: 'dynamodb:UpdateItem',
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
          },
        ]),
      },
    });
    template.hasOutput('GamesTableName', { Value: 'lobby-prod-games', Description: 'Imported (owned by Lobby)' });
  });

  it('lets a throwaway stage delete its stateful resources', () => {
    const { template } = synth({ stage: 'scratch', throwaway: 'true' });

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
      Timeout: 50,
      ReservedConcurrentExecutions: 1,
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
          GAMES_TABLE: ref(logicalId(stack, stack.tables.gamesTable)),
          OFFSETS_TABLE: ref(logicalId(stack, stack.tables.offsetsTable)),
          GM_BASE_URL: URLS.gameMasterBaseUrl,
          GM_TIMEOUT_MS: '3000',
          GM_API_TOKEN_SECRET_ARN: ref(logicalId(stack, defined(stack.secrets.gameMasterToken).secret)),
          BATCH_SIZE: '100',
          MAX_CONCURRENCY: '16',
          MAX_ATTEMPTS: '5',
          CONSUMER_MODE: 'batched',
          TIME_BUDGET_MARGIN_MS: '10000',
          POWERTOOLS_SERVICE_NAME: 'lobby',
          POWERTOOLS_METRICS_NAMESPACE: 'Galaxy/Lobby',
          POWERTOOLS_LOG_LEVEL: 'INFO',
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
      DestinationConfig: { OnFailure: { Destination: arnOf(logicalId(stack, stack.consumer.failureQueue)) } },
    });
  });

  it('keeps the timeout below the schedule period for slower schedules', () => {
    const { template } = synth({ scheduleRateMinutes: 5 });
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
    expect(policies[0]?.Properties.PolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'WriteOwnLogGroup',
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: arnOf(logicalId(stack, stack.consumer.logGroup)),
        },
        {
          Sid: 'GamesTableItems',
          Effect: 'Allow',
          Action: 'dynamodb:UpdateItem',
          Resource: arnOf(logicalId(stack, stack.tables.gamesTable)),
        },
        {
          Sid: 'OffsetsTableItems',
          Effect: 'Allow',
          Action: 'dynamodb:UpdateItem',
          Resource: arnOf(logicalId(stack, stack.tables.offsetsTable)),
        },
        {
          Sid: 'ReadTokens',
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          Resource: expect.arrayContaining([
            ref(logicalId(stack, stack.secrets.upstashToken.secret)),
            ref(logicalId(stack, defined(stack.secrets.gameMasterToken).secret)),
          ]),
        },
        {
          Sid: 'DeliverFailedInvocationRecords',
          Effect: 'Allow',
          Action: 'sqs:SendMessage',
          Resource: arnOf(logicalId(stack, stack.consumer.failureQueue)),
        },
      ],
    });
    const readTokens = (
      (policies[0]?.Properties?.PolicyDocument?.Statement ?? []) as { Sid: string; Resource: unknown }[]
    ).find((statement) => statement.Sid === 'ReadTokens');
    expect(readTokens?.Resource).toHaveLength(2);
  });

  it('reads imported secrets by name with exactly the six-character suffix, and no GM secret without GM auth', () => {
    const { stack, template } = synth({ upstashTokenSecretName: 'galaxy/prod/upstash-token', gameMasterAuth: false });
    const policies = policiesOf(template, logicalId(stack, stack.consumer.role));

    expect(policies[0]?.Properties.PolicyDocument.Statement).toContainEqual({
      Sid: 'ReadTokens',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: {
        'Fn::Join': [
          '',
          [
            'arn:',
            ref('AWS::Partition'),
            ':secretsmanager:',
            ref('AWS::Region'),
            ':',
            ref('AWS::AccountId'),
            ':secret:galaxy/prod/upstash-token-??????',
          ],
        ],
      },
    });
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    const variables = template.findResources('AWS::Lambda::Function');
    const environment = Object.values(variables)[0]?.Properties.Environment.Variables as Record<string, unknown>;
    expect(environment).not.toHaveProperty('GM_API_TOKEN_SECRET_ARN');
    expect(environment.UPSTASH_REDIS_REST_TOKEN_SECRET_ARN).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          ref('AWS::Partition'),
          ':secretsmanager:',
          ref('AWS::Region'),
          ':',
          ref('AWS::AccountId'),
          ':secret:galaxy/prod/upstash-token',
        ],
      ],
    });
  });

  it('lets the scheduler invoke the unqualified function and dead-letter, nothing more', () => {
    const { stack, template } = defaults;
    const roleId = logicalId(stack, stack.schedule.role);

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
        Resource: arnOf(logicalId(stack, stack.schedule.deadLetterQueue)),
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
        RoleArn: arnOf(logicalId(stack, stack.schedule.role)),
        DeadLetterConfig: { Arn: arnOf(logicalId(stack, stack.schedule.deadLetterQueue)) },
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
      Dimensions: [{ Name: 'service', Value: 'lobby' }],
      Statistic: 'Sum',
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Galaxy/Lobby',
      MetricName: 'lobby.start_flow.publish_abandoned',
      Dimensions: [{ Name: 'service', Value: 'lobby' }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmDescription: Match.stringLikeRegexp('npm run ops -- replay'),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Galaxy/Lobby',
      MetricName: 'lobby.start_flow.entries_trimmed',
      Dimensions: [{ Name: 'service', Value: 'lobby' }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    for (const queue of [stack.consumer.failureQueue, stack.schedule.deadLetterQueue]) {
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
      Topics: [ref(logicalId(stack, stack.monitoring.topic))],
      PolicyDocument: {
        Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })],
      },
    });
  });

  it('alarms on errors, lag, dead letters, an offset past the stream, messages given up, trimmed entries and both dead-letter queues, notifying on ALARM and OK', () => {
    const { stack, template } = defaults;
    const topic = [ref(logicalId(stack, stack.monitoring.topic))];
    template.resourceCountIs('AWS::CloudWatch::Alarm', 8);
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: topic, OKActions: topic });

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: ref(logicalId(stack, stack.consumer.function)) }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Galaxy/Lobby',
      MetricName: 'lobby.start_flow.consumer_lag_age',
      Dimensions: [{ Name: 'service', Value: 'lobby' }],
      Statistic: 'Maximum',
      Threshold: 300_000,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Galaxy/Lobby',
      MetricName: 'lobby.start_flow.dead_letters',
      Dimensions: [{ Name: 'service', Value: 'lobby' }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Galaxy/Lobby',
      MetricName: 'lobby.start_flow.offset_ahead_of_stream',
      Dimensions: [{ Name: 'service', Value: 'lobby' }],
      Statistic: 'Sum',
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Galaxy/Lobby',
      MetricName: 'lobby.start_flow.entries_trimmed',
      Dimensions: [{ Name: 'service', Value: 'lobby' }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    for (const queue of [stack.consumer.failureQueue, stack.schedule.deadLetterQueue]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, queue), 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  it('takes alarm thresholds from context', () => {
    const { template } = synth({
      lagAlarmThresholdSeconds: '120',
      errorAlarmThreshold: 3,
      deadLetterAlarmThreshold: 5,
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

  it('has a dashboard with outcomes, transitions, lag, dead letters, duration and errors', () => {
    const { template } = defaults;
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]?.Properties.DashboardName).toBe('galaxy-start-flow-dev');

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
    ]);

    const metricsOf = (title: string) => JSON.stringify(widgets.get(title)?.metrics);
    for (const outcome of ['running', 'paused', 'start_failed']) {
      expect(metricsOf('Start flow outcomes')).toContain(
        `["Galaxy/Lobby","lobby.start_flow.outcomes","outcome","${outcome}","service","lobby"`,
      );
    }
    expect(metricsOf('Game status transitions')).toContain(
      'SEARCH(\'{Galaxy/Lobby,service,from_status,to_status,trigger} MetricName=\\"lobby.game.transitions\\" service=\\"lobby\\"\'',
    );
    expect(metricsOf('Consumer lag')).toContain(
      '["Galaxy/Lobby","lobby.start_flow.consumer_lag_age","service","lobby"',
    );
    expect(metricsOf('Consumer lag')).toContain(
      '["Galaxy/Lobby","lobby.start_flow.consumer_lag_entries","service","lobby"',
    );
    expect(metricsOf('Dead letters and transient errors')).toContain(
      '"lobby.start_flow.dead_letters","service","lobby"',
    );
    expect(metricsOf('Dead letters and transient errors')).toContain(
      '"lobby.start_flow.transient_errors","service","lobby"',
    );
    expect(metricsOf('Dead letters and transient errors')).toContain(
      '"lobby.start_flow.publish_abandoned","service","lobby"',
    );
    expect(metricsOf('Dead letters and transient errors')).toContain(
      '"lobby.start_flow.entries_trimmed","service","lobby"',
    );
    expect(metricsOf('Duration')).toContain('"AWS/Lambda","Duration"');
    expect(metricsOf('Invocations and errors')).toContain('"AWS/Lambda","Errors"');
  });
});

describe('configuration surface', () => {
  it('warns when the endpoint URLs are missing instead of failing the synth', () => {
    const app = new App({ context: cdkJson.context });
    const { stack } = addStartFlowStack(app, {
      functionCode: lambda.Code.fromInline('export const handler = 1;'),
      env: {},
    });
    const annotations = Annotations.fromStack(stack);
    annotations.hasWarning(`/${stack.stackName}`, Match.stringLikeRegexp('"upstashRedisRestUrl" is not set'));
    annotations.hasWarning(`/${stack.stackName}`, Match.stringLikeRegexp('"gameMasterBaseUrl" is not set'));
  });

  it('names the stack after the stage and pins the environment given in context', () => {
    const { stack } = synth({ stage: 'prod', account: '123456789012', region: 'eu-west-1' });
    expect(stack.stackName).toBe('GalaxyStartFlow-prod');
    expect(stack.account).toBe('123456789012');
    expect(stack.region).toBe('eu-west-1');
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
