import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULTS, readConfig } from '../../lib/config.js';

/** A context source over a plain object, like `app.node` over cdk.json plus `-c` values. */
const context = (values: Record<string, unknown>) => ({ tryGetContext: (key: string): unknown => values[key] });

const urls = {
  upstashRedisRestUrl: 'https://eu1-example.upstash.io',
  gameMasterBaseUrl: 'https://gm.example.com/api/',
};

describe('readConfig', () => {
  it('applies the documented defaults', () => {
    const config = readConfig(context(urls), {});

    expect(config).toMatchObject({
      stage: 'dev',
      throwaway: false,
      scheduleRateMinutes: 1,
      scheduleEnabled: true,
      functionTimeoutSeconds: 50,
      memorySizeMb: 1024,
      logRetention: RetentionDays.ONE_MONTH,
      gameMasterAuth: true,
      streams: DEFAULTS.streams,
      tuning: DEFAULTS.tuning,
      alarms: { lagAgeSeconds: 300, functionErrors: 1, deadLetters: 1 },
      warnings: [],
    });
    expect(config.account).toBeUndefined();
    expect(config.region).toBeUndefined();
    expect(config.gamesTableName).toBeUndefined();
    expect(config.upstashTokenSecretName).toBeUndefined();
  });

  it('strips trailing slashes from URLs', () => {
    expect(readConfig(context(urls), {}).gameMasterBaseUrl).toBe('https://gm.example.com/api');
  });

  it('parses the strings that `cdk -c key=value` passes', () => {
    const config = readConfig(
      context({
        ...urls,
        stage: 'prod',
        throwaway: 'false',
        scheduleRateMinutes: '5',
        scheduleEnabled: 'false',
        batchSize: '250',
        gameMasterAuth: 'false',
        logRetentionDays: '90',
        lagAlarmThresholdSeconds: '600',
        consumerMode: 'seed',
        gamesTableName: 'lobby-prod-games',
        upstashTokenSecretName: 'galaxy/prod/upstash',
      }),
      {},
    );

    expect(config).toMatchObject({
      stage: 'prod',
      throwaway: false,
      scheduleRateMinutes: 5,
      scheduleEnabled: false,
      // Derived from the period: 10 s of headroom before the next tick.
      functionTimeoutSeconds: 290,
      logRetention: RetentionDays.THREE_MONTHS,
      gameMasterAuth: false,
      gamesTableName: 'lobby-prod-games',
      upstashTokenSecretName: 'galaxy/prod/upstash',
      tuning: { batchSize: 250, mode: 'seed' },
      alarms: { lagAgeSeconds: 600 },
    });
  });

  it('takes account and region from context first, then from the CDK CLI variables', () => {
    const env = { CDK_DEFAULT_ACCOUNT: '111111111111', CDK_DEFAULT_REGION: 'eu-west-1' };
    expect(readConfig(context(urls), env)).toMatchObject({ account: '111111111111', region: 'eu-west-1' });
    expect(readConfig(context({ ...urls, account: '222222222222', region: 'eu-central-1' }), env)).toMatchObject({
      account: '222222222222',
      region: 'eu-central-1',
    });
  });

  it('replaces missing endpoint URLs by unroutable placeholders and says so', () => {
    const config = readConfig(context({}), {});

    expect(config.upstashRedisRestUrl).toBe('https://upstash.invalid');
    expect(config.gameMasterBaseUrl).toBe('https://game-master.invalid');
    expect(config.warnings).toEqual([
      expect.stringContaining('upstashRedisRestUrl'),
      expect.stringContaining('gameMasterBaseUrl'),
    ]);
  });

  it.each([
    ['functionTimeoutSeconds', { functionTimeoutSeconds: 60 }, /not shorter than the schedule period/],
    ['timeBudgetMarginMs', { timeBudgetMarginMs: 50_000 }, /leaves no time/],
    ['scheduleRateMinutes', { scheduleRateMinutes: '1.5' }, /integer/],
    ['scheduleRateMinutes', { scheduleRateMinutes: 90 }, /from 1 to 60/],
    [
      'lagAlarmThresholdSeconds',
      { scheduleRateMinutes: 10, lagAlarmThresholdSeconds: 300 },
      /not longer than the schedule period/,
    ],
    ['batchSize', { batchSize: 0 }, /from 1 to 1000/],
    ['logRetentionDays', { logRetentionDays: 31 }, /retention CloudWatch Logs accepts/],
    ['throwaway', { throwaway: 'yes' }, /true or false/],
    ['stage', { stage: 'Prod_1' }, /lowercase/],
    ['consumerMode', { consumerMode: 'turbo' }, /batched, seed/],
    ['upstashRedisRestUrl', { upstashRedisRestUrl: 'http://example.upstash.io' }, /https: URL/],
    ['upstashRedisRestUrl', { upstashRedisRestUrl: 'https://default:token@example.upstash.io' }, /credentials/],
    ['gameMasterBaseUrl', { gameMasterBaseUrl: 'not a url' }, /absolute URL/],
    [
      'upstashTokenSecretName',
      { upstashTokenSecretName: 'arn:aws:secretsmanager:eu-west-1:1:secret:x' },
      /secret name/,
    ],
    ['gamesTableName', { gamesTableName: 'a' }, /table name/],
  ])('rejects a bad %s', (_key, values, message) => {
    expect(() => readConfig(context({ ...urls, ...values }), {})).toThrow(ConfigError);
    expect(() => readConfig(context({ ...urls, ...values }), {})).toThrow(message);
  });
});
