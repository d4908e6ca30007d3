/**
 * The repository app's configuration: context over the stage file, parsed into the
 * construct's props; a prop the construct refuses reported by the key that set it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App, Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { addStartFlowStack } from '../../lib/app.js';
import { ConfigError } from '../../lib/context-reader.js';
import { readConfig, STAGES_DIR } from '../../lib/stage-config.js';

/** A context source over a plain object, like `app.node` over cdk.json plus `-c` values. */
const context = (values: Record<string, unknown>) => ({ tryGetContext: (key: string): unknown => values[key] });

const urls = {
  upstashRedisRestUrl: 'https://eu1-example.upstash.io',
  gameMasterBaseUrl: 'https://gm.example.com/api/',
};
const prod = { ...urls, stage: 'prod', gamesTableName: 'lobby-prod-games' };

/** A folder of stage files written for one test. */
const stagesDir = (files: Record<string, unknown>): string => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'start-flow-stages-'));
  for (const [stage, content] of Object.entries(files)) {
    writeFileSync(path.join(dir, `${stage}.json`), JSON.stringify(content));
  }
  return `${dir}/`;
};

/** Builds the stack the way bin/app.ts does, from `values` as context. */
const build = (values: Record<string, unknown>, dir?: string) =>
  addStartFlowStack(new App({ context: values }), {
    functionCode: lambda.Code.fromInline('export const handler = 1;'),
    env: {},
    ...(dir === undefined ? {} : { stagesDir: dir }),
  });

describe('readConfig', () => {
  it('reads the dev stage from its file: a demo games table and placeholder URLs, asked for explicitly', () => {
    const file = JSON.parse(readFileSync(path.join(STAGES_DIR, 'dev.json'), 'utf8')) as Record<string, unknown>;
    expect(file).toMatchObject({ demoGamesTable: true });
    expect(readConfig(context({}), {})).toMatchObject({
      stage: 'dev',
      gamesTable: { kind: 'demo' },
      upstashRedisRestUrl: 'https://upstash.invalid',
      gameMasterBaseUrl: 'https://game-master.invalid',
      throwaway: false,
      gameMasterAuth: true,
      consumer: { stage: 'dev' },
    });
  });

  it('passes only what is set, so the construct applies its own defaults', () => {
    const config = readConfig(context(prod), {});
    expect(config.consumer).toEqual({ stage: 'prod', tuning: {}, alarmThresholds: {} });
    expect(config.gamesTable).toEqual({ kind: 'imported', name: 'lobby-prod-games' });
    expect(config.account).toBeUndefined();
    expect(config.upstashTokenSecret).toBeUndefined();
  });

  it('parses the strings that `cdk -c key=value` passes into props', () => {
    const config = readConfig(
      context({
        ...prod,
        throwaway: 'false',
        scheduleRateMinutes: '5',
        scheduleEnabled: 'false',
        followMode: 'false',
        functionTimeoutSeconds: '200',
        batchSize: '250',
        gameMasterAuth: 'false',
        logRetentionDays: '90',
        logLevel: 'debug',
        lagAlarmThresholdSeconds: '600',
        pausedAlarmThreshold: '4',
        consumerMode: 'seed',
        tracing: 'true',
        gmTimeoutMs: '1500',
        resultsStream: 'other:job_results',
        upstashTokenSecretName: 'galaxy/prod/upstash',
        alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:oncall',
      }),
      {},
    );
    expect(config).toMatchObject({
      throwaway: false,
      gameMasterAuth: false,
      upstashTokenSecret: { name: 'galaxy/prod/upstash' },
      alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:oncall',
      gameMasterTimeout: Duration.millis(1500),
      consumer: {
        schedule: Duration.minutes(5),
        scheduleEnabled: false,
        followMode: false,
        timeout: Duration.seconds(200),
        logRetention: 90,
        logLevel: 'DEBUG',
        tracing: true,
        streams: { results: 'other:job_results' },
        tuning: { batchSize: 250, mode: 'seed' },
        alarmThresholds: { lagAge: Duration.seconds(600), pausedGames: 4 },
      },
    });
  });

  it('takes account and region from context first, then from the CDK CLI variables', () => {
    const env = { CDK_DEFAULT_ACCOUNT: '111111111111', CDK_DEFAULT_REGION: 'eu-west-1' };
    expect(readConfig(context(prod), env)).toMatchObject({ account: '111111111111', region: 'eu-west-1' });
    expect(readConfig(context({ ...prod, account: '222222222222', region: 'eu-central-1' }), env)).toMatchObject({
      account: '222222222222',
      region: 'eu-central-1',
    });
  });

  it('reads a stage file under the context, which overrides it', () => {
    const dir = stagesDir({ staging: { ...urls, gamesTableName: 'lobby-staging-games', batchSize: 50 } });
    expect(readConfig(context({ stage: 'staging' }), {}, dir)).toMatchObject({
      gamesTable: { name: 'lobby-staging-games' },
      consumer: { tuning: { batchSize: 50 } },
    });
    expect(readConfig(context({ stage: 'staging', batchSize: '25' }), {}, dir).consumer.tuning).toEqual({
      batchSize: 25,
    });
  });

  it('fails a stage without a games table name, naming the key', () => {
    expect(() => readConfig(context({ ...urls, stage: 'prod' }), {})).toThrow(ConfigError);
    expect(() => readConfig(context({ ...urls, stage: 'prod' }), {})).toThrow(
      /"gamesTableName".*stage "prod" names no games table/,
    );
  });

  it.each([
    ['upstashRedisRestUrl', { ...prod, upstashRedisRestUrl: undefined }, /does not set it/],
    ['gameMasterBaseUrl', { ...prod, gameMasterBaseUrl: '' }, /does not set it/],
    ['gamesTableName', { ...prod, demoGamesTable: 'true' }, /set one of the two/],
    ['followMode', { ...prod, followMode: 'sometimes' }, /true or false/],
    ['scheduleRateMinutes', { ...prod, scheduleRateMinutes: '1.5' }, /integer/],
    ['batchSize', { ...prod, batchSize: '-1' }, /integer, 0 or more/],
    ['stage', { ...prod, stage: 'Prod_1' }, /lowercase/],
    ['consumerMode', { ...prod, consumerMode: 'turbo' }, /batched, seed/],
    [
      'upstashTokenSecretName',
      { ...prod, upstashTokenSecretName: 'arn:aws:secretsmanager:eu-west-1:1:secret:x' },
      /secret name/,
    ],
    [
      'upstashTokenSecretArn',
      { ...prod, upstashTokenSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x' },
      /complete ARN/,
    ],
    ['gamesTableKeyArn', { ...prod, gamesTableKeyArn: 'alias/lobby' }, /ARN of kms/],
    ['gamesTableName', { ...prod, gamesTableName: 'a' }, /table name/],
  ])('rejects a bad %s', (key, values, message) => {
    expect(() => readConfig(context(values), {})).toThrow(ConfigError);
    expect(() => readConfig(context(values), {})).toThrow(`"${key}"`);
    expect(() => readConfig(context(values), {})).toThrow(message);
  });

  it('refuses a key in a stage file that the app does not read', () => {
    const dir = stagesDir({ staging: { ...urls, gamesTableName: 'lobby-staging-games', batchsize: 50 } });
    expect(() => readConfig(context({ stage: 'staging' }), {}, dir)).toThrow(
      /"batchsize": is not a key a stage file can set/,
    );
  });
});

describe('the construct refusing a prop the stage set', () => {
  it.each([
    [
      'functionTimeoutSeconds',
      { followMode: false, functionTimeoutSeconds: 60 },
      /not shorter than the schedule period/,
    ],
    ['functionTimeoutSeconds', { functionTimeoutSeconds: 70 }, /does not outlast the schedule period/],
    ['functionTimeoutSeconds', { scheduleRateMinutes: 15 }, /would leave gaps/],
    ['pollIntervalMs', { pollIntervalMs: 0 }, /from 1 to 60000/],
    ['pollIntervalMs', { followMode: false, pollIntervalMs: 250 }, /only follow mode polls/],
    ['timeBudgetMarginMs', { followMode: false, timeBudgetMarginMs: 50_000 }, /leaves no time/],
    ['scheduleRateMinutes', { scheduleRateMinutes: 90 }, /from 1 to 60/],
    [
      'lagAlarmThresholdSeconds',
      { scheduleRateMinutes: 10, lagAlarmThresholdSeconds: 300 },
      /not longer than the schedule period/,
    ],
    ['batchSize', { batchSize: 0 }, /from 1 to 1000/],
    ['logRetentionDays', { logRetentionDays: 31 }, /retention CloudWatch Logs accepts/],
    ['upstashRedisRestUrl', { upstashRedisRestUrl: 'http://example.upstash.io' }, /https: URL/],
    ['upstashRedisRestUrl', { upstashRedisRestUrl: 'https://default:token@example.upstash.io' }, /credentials/],
    ['gameMasterBaseUrl', { gameMasterBaseUrl: 'not a url' }, /absolute URL/],
    [
      'gameMasterBaseUrl',
      { gameMasterBaseUrl: 'http://gm.example.com' },
      /https:\/\/ URL while gameMaster.token is set/,
    ],
    ['memorySizeMb', { memorySizeMb: 64 }, /from 128 to 10240/],
  ])('reports %s by its context key', (key, values, message) => {
    const attempt = () => build({ ...prod, ...values });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(`"${key}"`);
    expect(attempt).toThrow(message);
  });
});
