/**
 * `StartFlowConsumer` as a platform team embeds it: in a stack of its own, with Lobby's games
 * table (encrypted with the team's key), secrets, a VPC and an on-call topic it already has.
 * The function code is an inline stub (no esbuild); package.test.ts covers the packaged bundle.
 */
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { CfnElement } from 'aws-cdk-lib';
import { Annotations, Capture, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { StartFlowConsumer, StartFlowConsumerPropError } from '../../lib/index.js';
import type { StartFlowConsumerProps } from '../../lib/index.js';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const TABLE_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;
const SECRET_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/66666666-7777-8888-9999-000000000000`;
const UPSTASH_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:galaxy/prod/upstash-AbCdEf`;
const GM_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:galaxy/prod/gm-GhIjKl`;
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:platform-oncall`;
const STUB = lambda.Code.fromInline('export const handler = async () => ({});');

/** The team's stack and what it already holds, all imported: nothing of it is in the template. */
function platform() {
  const app = new App();
  const stack = new Stack(app, 'Platform', { env: { account: ACCOUNT, region: REGION } });
  const tableKey = kms.Key.fromKeyArn(stack, 'TableKey', TABLE_KEY_ARN);
  const gamesTable = dynamodb.Table.fromTableAttributes(stack, 'Games', {
    tableArn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/lobby-prod-games`,
    encryptionKey: tableKey,
  });
  const upstashToken = secretsmanager.Secret.fromSecretAttributes(stack, 'UpstashToken', {
    secretCompleteArn: UPSTASH_SECRET_ARN,
    encryptionKey: kms.Key.fromKeyArn(stack, 'SecretKey', SECRET_KEY_ARN),
  });
  const gameMasterToken = secretsmanager.Secret.fromSecretCompleteArn(stack, 'GmToken', GM_SECRET_ARN);
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: [`${REGION}a`, `${REGION}b`],
    privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
  });
  const securityGroup = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-0123456789abcdef0');
  const alarmTopic = sns.Topic.fromTopicArn(stack, 'OnCall', TOPIC_ARN);
  const props: StartFlowConsumerProps = {
    gamesTable,
    upstash: { restUrl: 'https://eu1-example.upstash.io', token: upstashToken },
    gameMaster: { baseUrl: 'https://gm.internal.example.com', token: gameMasterToken },
    vpc,
    securityGroups: [securityGroup],
    alarmTopic,
    stage: 'prod',
    code: STUB,
  };
  return { app, stack, props };
}

/** A consumer in a stack of its own with `overrides` on the platform's props. */
function embed(overrides: Partial<StartFlowConsumerProps> = {}) {
  const { stack, props } = platform();
  const consumer = new StartFlowConsumer(stack, 'StartFlow', { ...props, ...overrides });
  return { stack, consumer, template: Template.fromStack(stack) };
}

function logicalId(stack: Stack, construct: IConstruct): string {
  return stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
}

const ref = (id: string) => ({ Ref: id });

/** Every statement of every identity policy attached to the function's role. */
function roleStatements(template: Template, stack: Stack, consumer: StartFlowConsumer) {
  return Object.values(
    template.findResources('AWS::IAM::Policy', { Properties: { Roles: [ref(logicalId(stack, consumer.role))] } }),
  ).flatMap(
    (policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
  );
}

const actionsOf = (statement: { Action: string | string[] }) =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

const embedded = embed();

describe('StartFlowConsumer in a platform stack with its own table, key, secrets, VPC and topic', () => {
  it('creates none of them: its own offsets table, queues, function and alarms only', () => {
    const { template } = embedded;
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'consumer', KeyType: 'HASH' }],
    });
    for (const type of [
      'AWS::KMS::Key',
      'AWS::SecretsManager::Secret',
      'AWS::SNS::Topic',
      'AWS::EC2::VPC',
      'AWS::EC2::Subnet',
      'AWS::EC2::SecurityGroup',
    ]) {
      template.resourceCountIs(type, 0);
    }
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::SQS::Queue', 2);
  });

  it("points the function at the team's table, secrets, subnets and security group", () => {
    embedded.template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: {
        SubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
        SecurityGroupIds: ['sg-0123456789abcdef0'],
      },
      Environment: {
        Variables: Match.objectLike({
          GAMES_TABLE: 'lobby-prod-games',
          UPSTASH_REDIS_REST_TOKEN_SECRET_ARN: UPSTASH_SECRET_ARN,
          GM_API_TOKEN_SECRET_ARN: GM_SECRET_ARN,
          STAGE: 'prod',
          POWERTOOLS_METRICS_NAMESPACE: 'Galaxy/Lobby',
        }),
      },
    });
  });

  it('grants UpdateItem and GetItem on the table, the use of its key, and reading both secrets with the secret key', () => {
    const { stack, consumer, template } = embedded;
    const statements = roleStatements(template, stack, consumer);
    const granting = (action: string) => statements.filter((statement) => actionsOf(statement).includes(action));

    expect(granting('dynamodb:UpdateItem').flatMap((statement) => [statement.Resource].flat())).toEqual(
      expect.arrayContaining([`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/lobby-prod-games`]),
    );
    // Nothing but UpdateItem and a give-up's GetItem on the games table.
    for (const statement of statements.filter((s) => JSON.stringify(s.Resource).includes('lobby-prod-games'))) {
      expect(actionsOf(statement).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    }
    const onTableKey = statements.filter((statement) => JSON.stringify(statement.Resource).includes(TABLE_KEY_ARN));
    expect(onTableKey.flatMap(actionsOf).sort()).toEqual(
      ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'].sort(),
    );
    for (const arn of [UPSTASH_SECRET_ARN, GM_SECRET_ARN]) {
      const reading = statements.filter((statement) => JSON.stringify(statement.Resource).includes(arn));
      expect(reading.flatMap(actionsOf), arn).toContain('secretsmanager:GetSecretValue');
    }
    const onSecretKey = statements.filter((statement) => JSON.stringify(statement.Resource).includes(SECRET_KEY_ARN));
    expect(onSecretKey).toEqual([
      expect.objectContaining({
        Action: 'kms:Decrypt',
        Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` } },
      }),
    ]);
  });

  it('lets Lambda manage its network interfaces in the VPC, in a policy of its own', () => {
    const { stack, consumer, template } = embedded;
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [ref(logicalId(stack, consumer.role))],
      PolicyDocument: {
        Statement: [Match.objectLike({ Action: Match.arrayWith(['ec2:CreateNetworkInterface']), Resource: '*' })],
      },
    });
  });

  it("sends every alarm to the team's topic, on ALARM and on OK", () => {
    const { template } = embedded;
    template.resourceCountIs('AWS::CloudWatch::Alarm', 10);
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [TOPIC_ARN], OKActions: [TOPIC_ARN] });
    expect(embedded.consumer.alarmTopic.topicArn).toBe(TOPIC_ARN);
  });

  it('names alarms and the dashboard after the stage and the region', () => {
    const { template, consumer, stack } = embedded;
    const resources = template.toJSON().Resources as Record<string, { Properties: { AlarmName: string } }>;
    for (const alarm of Object.values(consumer.alarms)) {
      expect(resources[logicalId(stack, alarm)]?.Properties.AlarmName).toBe(
        `galaxy-start-flow-prod-eu-west-1-${alarm.node.id}`,
      );
    }
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'galaxy-start-flow-prod-eu-west-1' });
  });

  it("reads its own stage's metrics only, in its namespace", () => {
    const { template } = embed({ metricsNamespace: 'Platform/StartFlow' });
    const custom = template.findResources('AWS::CloudWatch::Alarm', {
      Properties: { Namespace: 'Platform/StartFlow' },
    });
    expect(Object.keys(custom).length).toBeGreaterThanOrEqual(5);
    for (const alarm of Object.values(custom)) {
      expect(alarm.Properties.Dimensions).toEqual(
        expect.arrayContaining([
          { Name: 'service', Value: 'lobby' },
          { Name: 'stage', Value: 'prod' },
        ]),
      );
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ POWERTOOLS_METRICS_NAMESPACE: 'Platform/StartFlow', STAGE: 'prod' }),
      },
    });
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]);
    expect(body).toContain('service=\\\\\\"lobby\\\\\\" stage=\\\\\\"prod\\\\\\"');
    expect(body).not.toContain('Galaxy/Lobby');
  });

  it('without a stage, sets no STAGE and leaves the stage out of the names and the dimensions', () => {
    const { template } = embed({ stage: undefined });
    const variables = Object.values(template.findResources('AWS::Lambda::Function'))[0]?.Properties.Environment
      .Variables as Record<string, unknown>;
    expect(variables).not.toHaveProperty('STAGE');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'galaxy-start-flow-eu-west-1-DeadLetters',
      Dimensions: [{ Name: 'service', Value: 'lobby' }],
    });
  });
});

describe('StartFlowConsumer alarms', () => {
  const alarmNamed = (template: Template, id: string) => {
    const found = Object.values(
      template.findResources('AWS::CloudWatch::Alarm', {
        Properties: { AlarmName: Match.stringLikeRegexp(`-${id}$`) },
      }),
    );
    expect(found, id).toHaveLength(1);
    return found[0]?.Properties as Record<string, unknown>;
  };

  it('damps FunctionErrors and Throttles: 3 of the last 5 schedule periods', () => {
    const { template } = embedded;
    expect(alarmNamed(template, 'FunctionErrors')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Period: 60,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
      Threshold: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(alarmNamed(template, 'Throttles')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
    });
  });

  it('fires the queue alarms on new messages, so they clear without a purge', () => {
    const { template, consumer, stack } = embedded;
    for (const [id, queue] of [
      ['FailedInvocations', consumer.failedInvocationsQueue],
      ['UndeliveredTicks', consumer.undeliveredTicksQueue],
    ] as const) {
      expect(alarmNamed(template, id)).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'NumberOfMessagesSent',
        Statistic: 'Sum',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, queue), 'QueueName'] } }],
        EvaluationPeriods: 5,
        DatapointsToAlarm: 3,
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('fires GameMasterOutage when paused games rise past the threshold and outnumber running ones', () => {
    const expression = new Capture();
    const { template } = embed({ alarmThresholds: { pausedGames: 4 } });
    const alarm = alarmNamed(template, 'GameMasterOutage');
    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: Match.stringLikeRegexp('-GameMasterOutage$'),
      Metrics: Match.arrayWith([Match.objectLike({ Expression: expression })]),
    });
    expect(expression.asString()).toBe('IF(FILL(paused, 0) >= 4 AND FILL(paused, 0) >= FILL(running, 0), 1, 0)');
    const metrics = alarm.Metrics as { Id: string; MetricStat?: { Metric: { Dimensions: unknown[] } } }[];
    for (const [id, outcome] of [
      ['paused', 'paused'],
      ['running', 'running'],
    ]) {
      expect(metrics.find((metric) => metric.Id === id)?.MetricStat?.Metric).toMatchObject({
        MetricName: 'lobby.start_flow.outcomes',
        Dimensions: expect.arrayContaining([
          { Name: 'outcome', Value: outcome },
          { Name: 'stage', Value: 'prod' },
        ]),
      });
    }
  });

  it('treats a silent lag metric as breaching while the schedule runs, and not once it is disabled', () => {
    expect(alarmNamed(embedded.template, 'LagAge')).toMatchObject({ TreatMissingData: 'breaching' });
    const paused = embed({ scheduleEnabled: false });
    expect(alarmNamed(paused.template, 'LagAge')).toMatchObject({ TreatMissingData: 'notBreaching' });
    paused.template.hasResourceProperties('AWS::Scheduler::Schedule', { State: 'DISABLED' });
  });

  it('makes an encrypted topic of its own when none is given', () => {
    const { template, stack, consumer } = embed({ alarmTopic: undefined });
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [ref(logicalId(stack, consumer.alarmTopic))],
    });
  });
});

describe('StartFlowConsumer function', () => {
  it('follows by default: timeout 80 s, reserved concurrency 2, arm64 on Node.js 24', () => {
    embedded.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 1024,
      Timeout: 80,
      ReservedConcurrentExecutions: 2,
      Environment: { Variables: Match.objectLike({ POLL_INTERVAL_MS: '250' }) },
    });
  });

  it('traces only when asked: tracing ACTIVE with POWERTOOLS_TRACE_ENABLED, else neither', () => {
    const traced = embed({ tracing: true });
    traced.template.hasResourceProperties('AWS::Lambda::Function', {
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: Match.objectLike({ POWERTOOLS_TRACE_ENABLED: 'true' }) },
    });
    // The acknowledgement of Resource::* on the role's policy covers X-Ray's statement, and nothing else there.
    const wildcards = roleStatements(traced.template, traced.stack, traced.consumer).filter(
      (statement) => statement.Resource === '*' && !actionsOf(statement).some((action) => action.startsWith('ec2:')),
    );
    expect(wildcards.flatMap(actionsOf).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    const functions = Object.values(embedded.template.findResources('AWS::Lambda::Function'));
    expect(functions[0]?.Properties).not.toHaveProperty('TracingConfig');
    expect(functions[0]?.Properties.Environment.Variables).not.toHaveProperty('POWERTOOLS_TRACE_ENABLED');
  });

  it('retains its offsets table and log group unless told to destroy them', () => {
    embedded.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
    const throwaway = embed({ removalPolicy: RemovalPolicy.DESTROY });
    throwaway.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
    });
    throwaway.template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
  });

  it('warns about a placeholder host that never resolves', () => {
    const { stack } = embed({ gameMaster: { baseUrl: 'https://game-master.invalid' } });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('gameMaster.baseUrl .* never resolves'));
  });
});

describe('StartFlowConsumer props', () => {
  const gm = { baseUrl: 'https://gm.internal.example.com' };
  it.each<[string, Partial<StartFlowConsumerProps>, RegExp]>([
    ['timeout', { timeout: Duration.seconds(30) }, /does not outlast the schedule period of 60s/],
    ['timeout', { timeout: Duration.seconds(120) }, /spans two schedule periods/],
    ['timeout', { followMode: false, timeout: Duration.seconds(60) }, /not shorter than the schedule period/],
    ['timeout', { schedule: Duration.minutes(15) }, /Lambda's timeout ends at 900s/],
    ['timeout', { timeout: Duration.millis(30_500) }, /not whole seconds/],
    ['schedule', { schedule: Duration.seconds(90) }, /whole number of minutes/],
    ['schedule', { schedule: Duration.minutes(90) }, /from 1 to 60/],
    ['timeBudgetMargin', { followMode: false, timeBudgetMargin: Duration.seconds(50) }, /leaves no time/],
    ['pollInterval', { followMode: false, pollInterval: Duration.millis(250) }, /only follow mode polls/],
    ['pollInterval', { pollInterval: Duration.millis(0) }, /from 1 to 60000/],
    [
      'alarmThresholds.lagAge',
      { schedule: Duration.minutes(10), alarmThresholds: { lagAge: Duration.minutes(5) } },
      /not longer than the schedule period/,
    ],
    ['alarmThresholds.functionErrors', { alarmThresholds: { functionErrors: 0 } }, /from 1 to 10000/],
    ['tuning.batchSize', { tuning: { batchSize: 0 } }, /from 1 to 1000/],
    ['tuning.maxConcurrency', { tuning: { maxConcurrency: 257 } }, /from 1 to 256/],
    ['gameMaster.timeout', { gameMaster: { ...gm, timeout: Duration.seconds(61) } }, /from 100 to 60000/],
    ['memorySize', { memorySize: 64 }, /from 128 to 10240/],
    ['logRetention', { logRetention: 31 as logs.RetentionDays }, /retention CloudWatch Logs accepts/],
    ['stage', { stage: 'Prod_1' }, /lowercase/],
    ['metricsNamespace', { metricsNamespace: 'AWS/Lambda' }, /not starting with AWS/],
    [
      'upstash.restUrl',
      {
        upstash: {
          restUrl: 'http://example.upstash.io',
          token: secretsmanager.Secret.fromSecretNameV2(new Stack(), 'S', 'x'),
        },
      },
      /https: URL/,
    ],
    ['gameMaster.baseUrl', { gameMaster: { baseUrl: 'https://user:pw@gm.example.com' } }, /credentials/],
    ['offsetsTableName', { offsetsTableName: 'a' }, /table name/],
    ['securityGroups', { vpc: undefined }, /has no effect without vpc/],
  ])('refuses a bad %s, naming it', (prop, overrides, problem) => {
    const { stack, props } = platform();
    const build = () =>
      new StartFlowConsumer(stack, `StartFlow${Math.random()}`.replace('.', ''), { ...props, ...overrides });
    expect(build).toThrow(StartFlowConsumerPropError);
    expect(build).toThrow(`"${prop}"`);
    expect(build).toThrow(problem);
  });

  it('refuses a Game Master token over http://', () => {
    const { stack, props } = platform();
    expect(
      () =>
        new StartFlowConsumer(stack, 'StartFlow', {
          ...props,
          gameMaster: { ...props.gameMaster, baseUrl: 'http://gm.example.com' },
        }),
    ).toThrow(/"gameMaster.baseUrl".*https/);
  });

  it('derives the timeout from the schedule and the margin, in both modes', () => {
    embed({ schedule: Duration.minutes(5), timeBudgetMargin: Duration.seconds(20) }).template.hasResourceProperties(
      'AWS::Lambda::Function',
      { Timeout: 300 + 20 + 10, ReservedConcurrentExecutions: 2 },
    );
    embed({ schedule: Duration.minutes(5), followMode: false }).template.hasResourceProperties(
      'AWS::Lambda::Function',
      {
        Timeout: 290,
        ReservedConcurrentExecutions: 1,
        Environment: { Variables: Match.objectLike({ POLL_INTERVAL_MS: '0' }) },
      },
    );
  });
});
