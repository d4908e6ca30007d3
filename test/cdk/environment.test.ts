/**
 * The stack and the handler agree on the environment: every variable the synthesized
 * function gets is one the handler reads, and `loadConfig` turns them into exactly the
 * values the stack's configuration meant. CloudFormation references (table names, secret
 * ARNs) are resolved to plausible values the way CloudFormation would at deploy time.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/runtime-job-results/config.js';
import { telemetryOf, VARIABLES } from '../../functions/runtime-job-results/environment.js';
import { addStartFlowStack } from '../../lib/app.js';
import { resolveSettings } from '../../lib/settings.js';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lib/metrics.js';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  readonly context: Record<string, unknown>;
};

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';

type Resources = Record<string, { readonly Type: string }>;

/** A CloudFormation value as it would be once deployed; table and secret names derive from logical ids. */
const resolve = (value: unknown, resources: Resources): string => {
  if (typeof value === 'string') return value;
  const intrinsic = value as Record<string, unknown>;
  if (typeof intrinsic.Ref === 'string') {
    const pseudo: Record<string, string> = {
      'AWS::Region': REGION,
      'AWS::AccountId': ACCOUNT,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
    };
    const id = intrinsic.Ref;
    if (pseudo[id] !== undefined) return pseudo[id];
    const type = resources[id]?.Type;
    if (type === 'AWS::DynamoDB::Table') return `table-${id}`;
    if (type === 'AWS::SecretsManager::Secret')
      return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}-AbCdEf`;
    throw new Error(`no deployed value for a Ref to ${id} (${String(type)})`);
  }
  const join = intrinsic['Fn::Join'] as [string, unknown[]] | undefined;
  if (join !== undefined) return join[1].map((part) => resolve(part, resources)).join(join[0]);
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
};

const synth = (context: Record<string, unknown>) => {
  const app = new App({
    context: {
      ...cdkJson.context,
      upstashRedisRestUrl: 'https://eu1-example.upstash.io',
      gameMasterBaseUrl: 'https://gm.example.com/',
      ...context,
    },
  });
  const { stack, config } = addStartFlowStack(app, {
    functionCode: lambda.Code.fromInline('export const handler = async () => ({});'),
    env: {},
  });
  // What the construct meant: the stage's props with the construct's defaults and rules applied.
  const settings = resolveSettings({
    ...config.consumer,
    gamesTable: stack.gamesTable,
    upstash: { restUrl: config.upstashRedisRestUrl, token: stack.secrets.upstashToken.secret },
    gameMaster: {
      baseUrl: config.gameMasterBaseUrl,
      ...(config.gameMasterTimeout === undefined ? {} : { timeout: config.gameMasterTimeout }),
    },
  });
  const template = Template.fromStack(stack).toJSON() as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const [fn] = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Lambda::Function');
  if (fn === undefined) throw new Error('the stack has no function');
  const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  const environment = Object.fromEntries(
    Object.entries(variables).map(([name, value]) => [name, resolve(value, template.Resources)]),
  );
  const tableName = (table: { node: { defaultChild?: unknown } }, imported: string | undefined): string =>
    imported ?? `table-${stack.getLogicalId(table.node.defaultChild as CfnElement)}`;
  return {
    stack,
    config,
    settings,
    environment,
    gamesTable: tableName(stack.gamesTable, config.gamesTable.kind === 'imported' ? config.gamesTable.name : undefined),
    offsetsTable: tableName(stack.consumer.offsetsTable, undefined),
  };
};

describe('the function environment the stack writes', () => {
  it.each([
    ['the defaults', {}],
    [
      'every tuning value changed, imported tables and secrets, no Game Master auth',
      {
        consumerMode: 'seed',
        batchSize: 1000,
        maxConcurrency: '256',
        maxAttempts: 1,
        gmTimeoutMs: 100,
        timeBudgetMarginMs: 0,
        logLevel: 'silent',
        pollIntervalMs: 500,
        resultsStream: 'other:job_results',
        stopJobsStream: 'other:stop_jobs',
        notificationIntentsStream: 'other:intents',
        deadLetterStream: 'other:dead',
        stage: 'prod',
        gamesTableName: 'lobby-prod-games',
        upstashTokenSecretName: 'galaxy/prod/upstash-token',
        gameMasterAuth: false,
      },
    ],
    ['Game Master auth with an imported token', { gameMasterTokenSecretName: 'galaxy/prod/gm-token' }],
    ['drain mode', { followMode: false }],
  ])('parses with the handler’s loadConfig to what the stack meant: %s', (_name, context) => {
    const { config: stack, environment, gamesTable, offsetsTable, settings } = synth(context);
    // Lambda adds AWS_REGION (and credentials) itself.
    const config = loadConfig({ ...environment, AWS_REGION: REGION });
    const seed = settings.tuning.mode === 'seed';

    expect(config.streams).toEqual(settings.streams);
    expect(config.upstash).toEqual({
      url: settings.upstashRestUrl,
      token: { kind: 'secret', arn: expect.stringMatching(/^arn:aws:secretsmanager:/) },
      timeoutMs: VARIABLES.UPSTASH_TIMEOUT_MS.default,
    });
    expect(config.dynamodb).toEqual({
      gamesTable,
      offsetsTable,
      endpoint: undefined,
      region: REGION,
      localCredentials: undefined,
    });
    expect(config.gameMaster).toEqual({
      baseUrl: settings.gameMasterBaseUrl,
      timeoutMs: settings.tuning.gmTimeoutMs,
      token: stack.gameMasterAuth
        ? { kind: 'secret', arn: expect.stringMatching(/^arn:aws:secretsmanager:/) }
        : undefined,
    });
    expect(config.consumer).toEqual({
      mode: settings.tuning.mode,
      batchSize: seed ? 1 : settings.tuning.batchSize,
      prefetch: !seed,
      maxConcurrency: seed ? 1 : settings.tuning.maxConcurrency,
      maxAttempts: settings.tuning.maxAttempts,
      timeBudgetMarginMs: settings.tuning.timeBudgetMarginMs,
      attemptsPerInvocation: VARIABLES.ATTEMPTS_PER_INVOCATION.default,
      retryBackoffMs: VARIABLES.RETRY_BACKOFF_MS.default,
      pollIntervalMs: settings.tuning.pollIntervalMs,
      pollIdleMaxMs: VARIABLES.POLL_IDLE_MAX_MS.default,
    });
    expect(telemetryOf(environment)).toEqual({
      serviceName: SERVICE_NAME,
      metricsNamespace: METRICS_NAMESPACE,
      logLevel: settings.tuning.logLevel,
      stage: stack.stage,
      tracing: false,
    });
  });

  it('sets only variables the handler reads, besides NODE_OPTIONS', () => {
    const { environment } = synth({ gameMasterTokenSecretName: 'galaxy/prod/gm-token' });
    const unknown = Object.keys(environment).filter((name) => !(name in VARIABLES) && name !== 'NODE_OPTIONS');
    expect(unknown).toEqual([]);
  });

  it.each([
    ['gmTimeoutMs', 'GM_TIMEOUT_MS'],
    ['batchSize', 'BATCH_SIZE'],
    ['maxConcurrency', 'MAX_CONCURRENCY'],
    ['maxAttempts', 'MAX_ATTEMPTS'],
  ] as const)('refuses %s outside the limits the handler enforces on %s', (key, name) => {
    const { min, max } = VARIABLES[name];
    expect(() => synth({ [key]: min - 1 })).toThrow(key);
    expect(() => synth({ [key]: max + 1 })).toThrow(key);
    expect(synth({ [key]: min }).environment[name]).toBe(String(min));
  });

  it("cdk.json holds feature flags only: every default is the construct's, in one place", () => {
    expect(Object.keys(cdkJson.context).filter((key) => !key.startsWith('@'))).toEqual([]);
  });
});
