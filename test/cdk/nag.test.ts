/**
 * cdk-nag (AwsSolutions and Serverless packs, registered like bin/app.ts registers them) has
 * nothing to report on the stack, and every acknowledgement is scoped to one resource, gives a
 * reason, and is actually needed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, NagRuleCompliance, rules, ServerlessChecks } from 'cdk-nag';
import type { NagPack, NagRuleResult } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { addStartFlowStack } from '../../lib/app.js';
import { StartFlowConsumer } from '../../lib/index.js';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  readonly context: Record<string, unknown>;
};

const URLS = { upstashRedisRestUrl: 'https://eu1-example.upstash.io', gameMasterBaseUrl: 'https://gm.example.com' };

/** An app as bin/app.ts builds it, with a stub instead of the bundled handler. */
function buildApp(overrides: Record<string, unknown> = {}) {
  const app = new App({ context: { ...cdkJson.context, ...URLS, ...overrides } });
  const { stack } = addStartFlowStack(app, {
    functionCode: lambda.Code.fromInline('export const handler = async () => ({});'),
    env: {},
  });
  const packs: NagPack[] = [new AwsSolutionsChecks(app), new ServerlessChecks(app)];
  return { app, stack, packs };
}

/** The construct as a team embeds it: its own table and key, secret, VPC, topic; tracing on. */
function embeddedApp(): App {
  const app = new App();
  const stack = new Stack(app, 'Platform', { env: { account: '123456789012', region: 'eu-west-1' } });
  const key = (id: string) => kms.Key.fromKeyArn(stack, id, `arn:aws:kms:eu-west-1:123456789012:key/${id}`);
  new StartFlowConsumer(stack, 'StartFlow', {
    gamesTable: dynamodb.Table.fromTableAttributes(stack, 'Games', {
      tableName: 'lobby-prod-games',
      encryptionKey: key('table-key'),
    }),
    upstash: {
      restUrl: 'https://eu1-example.upstash.io',
      token: secretsmanager.Secret.fromSecretAttributes(stack, 'Token', {
        secretCompleteArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:upstash-AbCdEf',
        encryptionKey: key('secret-key'),
      }),
    },
    gameMaster: { baseUrl: 'https://gm.internal.example.com' },
    vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-1',
      availabilityZones: ['eu-west-1a'],
      privateSubnetIds: ['subnet-1'],
    }),
    securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-1')],
    alarmTopic: sns.Topic.fromTopicArn(stack, 'OnCall', 'arn:aws:sns:eu-west-1:123456789012:oncall'),
    tracing: true,
    stage: 'prod',
    code: lambda.Code.fromInline('export const handler = async () => ({});'),
  });
  return app;
}

describe("cdk-nag on the construct embedded in a VPC with the team's key, secret and topic, tracing on", () => {
  it('reports no finding of either pack: the acknowledgements travel with the construct', () => {
    const app = embeddedApp();
    for (const pack of [new AwsSolutionsChecks(app), new ServerlessChecks(app)]) {
      const report = pack.validateScope(app);
      expect(
        report.violations.map((violation) => `${violation.severity} ${violation.ruleName}`),
        pack.name,
      ).toEqual([]);
    }
  });
});

const VARIANTS: Record<string, Record<string, unknown>> = {
  'a first deployment (tables and secrets created)': {},
  'an existing Lobby table and existing secrets': {
    gamesTableName: 'lobby-prod-games',
    upstashTokenSecretName: 'galaxy/prod/upstash-token',
    gameMasterTokenSecretName: 'galaxy/prod/gm-token',
    stage: 'prod',
    account: '123456789012',
    region: 'eu-west-1',
  },
  'a throwaway demo stage without Game Master auth': {
    stage: 'scratch',
    throwaway: true,
    demoGamesTable: true,
    gameMasterAuth: false,
  },
  'drain mode (follow mode turned off)': { followMode: false },
  'tracing on, and a games table with its own key': {
    stage: 'prod',
    gamesTableName: 'lobby-prod-games',
    gamesTableKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555',
    tracing: true,
  },
};

describe.each(Object.entries(VARIANTS))('cdk-nag on %s', (_name, context) => {
  it('reports no finding of either pack, error or warning', () => {
    const { app, packs } = buildApp(context);
    for (const pack of packs) {
      const report = pack.validateScope(app);
      expect(
        report.violations.map((violation) => `${violation.severity} ${violation.ruleName}`),
        pack.name,
      ).toEqual([]);
      expect(report.success).toBe(true);
    }
  });

  it('lets the synth with the packs registered succeed, with no nag entry in the validation report', () => {
    const { app, packs } = buildApp(context);
    Validations.of(app).addPlugins(...packs);
    const assembly = app.synth();

    const report = JSON.parse(readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8')) as {
      readonly pluginReports: readonly { readonly pluginName: string; readonly violations: readonly unknown[] }[];
    };
    const nagReports = report.pluginReports.filter((plugin) =>
      ['AwsSolutions', 'Serverless'].includes(plugin.pluginName),
    );
    for (const plugin of nagReports) expect(plugin.violations, plugin.pluginName).toEqual([]);
  });
});

describe('cdk-nag wiring', () => {
  it('fails the synth on an unacknowledged finding (so the tests above can fail)', () => {
    const { app, stack, packs } = buildApp();
    new sqs.Queue(stack, 'UnreviewedQueue');
    Validations.of(app).addPlugins(...packs);

    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3/);
  });

  it('is registered by bin/app.ts with both packs through the Validations API', () => {
    const source = readFileSync(new URL('../../bin/app.ts', import.meta.url), 'utf8');
    expect(source).toMatch(
      /Validations\.of\(app\)\.addPlugins\(new AwsSolutionsChecks\(app\), new ServerlessChecks\(app\)\)/,
    );
  });
});

describe('acknowledgements', () => {
  /** The rule behind each acknowledged id, to prove the acknowledgement is needed. */
  const RULES: Record<string, (node: CfnResource) => NagRuleResult> = {
    'AwsSolutions-SMG4': rules.secretsmanager.SecretsManagerRotationEnabled,
    'AwsSolutions-SQS3': rules.sqs.SQSQueueDLQ,
    'Serverless-SQSRedrivePolicy': rules.sqs.SQSRedrivePolicy,
    'Serverless-LambdaDLQ': rules.lambda.LambdaDLQ,
    'Serverless-LambdaTracing': rules.lambda.LambdaTracing,
    'AwsSolutions-IAM5': rules.iam.IAMNoWildcardPermissions,
  };

  /** Every acknowledgement in the app: where it sits, what it acknowledges and why. */
  function acknowledgements(app: App) {
    const found: { readonly node: unknown; readonly path: string; readonly id: string; readonly reason: string }[] = [];
    for (const construct of app.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [key, reason] of Object.entries(entry.data as Record<string, string>)) {
          found.push({ node: construct, path: construct.node.path, id: key.replace(/^annotation::/i, ''), reason });
        }
      }
    }
    return found;
  }

  it('are exactly these, each on a single CloudFormation resource', () => {
    const { app, stack } = buildApp();
    const found = acknowledgements(app);

    expect(found.map(({ path: where, id }) => `${where.replace(`${stack.stackName}/`, '')} ${id}`).sort()).toEqual(
      [
        'Default/Consumer/FailedInvocations/Queue/Resource AwsSolutions-SQS3',
        'Default/Consumer/FailedInvocations/Queue/Resource Serverless-SQSRedrivePolicy',
        'Default/Consumer/Function/Resource Serverless-LambdaDLQ',
        'Default/Consumer/Function/Resource Serverless-LambdaTracing',
        'Default/Schedule/UndeliveredTicks/Queue/Resource AwsSolutions-SQS3',
        'Default/Schedule/UndeliveredTicks/Queue/Resource Serverless-SQSRedrivePolicy',
        'Secrets/GameMasterApiToken/Resource AwsSolutions-SMG4',
        'Secrets/UpstashRedisRestToken/Resource AwsSolutions-SMG4',
      ].sort(),
    );
    for (const { node, path: where } of found) {
      expect(CfnResource.isCfnResource(node), where).toBe(true);
      expect(Stack.isStack(node), where).toBe(false);
    }
  });

  it.each([
    ['the defaults', buildApp().app],
    [
      'tracing on, and a games table with its own key',
      buildApp(VARIANTS['tracing on, and a games table with its own key']).app,
    ],
    ['a team embedding it in a VPC', embeddedApp()],
  ])('give a reason and are each needed, on %s: the rule fails on the resource without them', (_name, app) => {
    const found = acknowledgements(app);
    expect(found.length).toBeGreaterThan(4);
    for (const { node, path: where, id, reason } of found) {
      expect(reason.length, `${where} ${id}`).toBeGreaterThan(80);
      // `AwsSolutions-IAM5[Resource::*]` acknowledges one finding of the rule.
      const [, ruleId = id, finding] = /^([^[]+)(?:\[(.+)\])?$/.exec(id) ?? [];
      const rule = RULES[ruleId];
      expect(rule, id).toBeDefined();
      if (rule === undefined || !CfnResource.isCfnResource(node)) continue;
      if (finding === undefined) expect(rule(node), `${where} ${id}`).toBe(NagRuleCompliance.NON_COMPLIANT);
      else expect(rule(node), `${where} ${id}`).toContain(finding);
    }
  });
});
