import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../functions/runtime-job-results/config.js';

const base = {
  UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:8079',
  UPSTASH_REDIS_REST_TOKEN: 'token',
  GAMES_TABLE: 'games',
  OFFSETS_TABLE: 'offsets',
  GM_BASE_URL: 'http://gm.internal/',
  AWS_REGION: 'eu-west-1',
};

const errorFor = (env: Record<string, string | undefined>): ConfigError => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(base);
    expect(config.streams).toEqual({
      results: 'runtime:job_results',
      stopJobs: 'runtime:stop_jobs',
      notificationIntents: 'notification:intents',
      deadLetters: 'runtime:job_results:dead',
    });
    expect(config.consumer).toMatchObject({ mode: 'batched', batchSize: 100, maxConcurrency: 16, maxAttempts: 5 });
    // Drain mode unless POLL_INTERVAL_MS says otherwise; the idle back-off's ceiling.
    expect(config.consumer).toMatchObject({ pollIntervalMs: 0, pollIdleMaxMs: 1_200 });
    expect(config.gameMaster).toEqual({ baseUrl: 'http://gm.internal', timeoutMs: 3000, token: undefined });
    expect(config.dynamodb.localCredentials).toBeUndefined();
  });

  it.each(['http://127.0.0.1:8079', 'http://localhost:8079', 'http://[::1]:8079', 'https://eu1-upstash.example.io'])(
    'accepts the Upstash URL %s: https, or http to this machine only',
    (url) => {
      expect(loadConfig({ ...base, UPSTASH_REDIS_REST_URL: url }).upstash.url).toBe(url);
    },
  );

  it.each(['UPSTASH_REDIS_REST_URL', 'GAMES_TABLE', 'OFFSETS_TABLE', 'GM_BASE_URL', 'UPSTASH_REDIS_REST_TOKEN'])(
    'names %s when it is missing',
    (name) => {
      const error = errorFor({ ...base, [name]: undefined });
      expect(error.variable).toBe(name);
      expect(error.message).toContain(name);
    },
  );

  it.each([
    ['BATCH_SIZE', 'ten'],
    ['BATCH_SIZE', '0'],
    ['MAX_CONCURRENCY', '-1'],
    ['MAX_ATTEMPTS', '1.5'],
    ['GM_TIMEOUT_MS', '0'],
    ['GM_BASE_URL', 'gm.internal'],
    ['UPSTASH_REDIS_REST_URL', 'redis://x'],
    ['UPSTASH_REDIS_REST_URL', 'http://eu1-upstash.example.io'],
    ['STAGE', 'prod stage'],
    ['DYNAMODB_ENDPOINT', 'localhost:8000'],
    ['CONSUMER_MODE', 'fast'],
    ['POWERTOOLS_LOG_LEVEL', 'LOUD'],
    ['POLL_INTERVAL_MS', '-250'],
    ['POLL_INTERVAL_MS', '60001'],
    ['POLL_IDLE_MAX_MS', '0'],
    ['GAMES_TABLE', 'no spaces allowed'],
    ['UPSTASH_REDIS_REST_TOKEN_SECRET_ARN', 'my-secret'],
  ])('names %s when it is %j', (name, value) => {
    expect(errorFor({ ...base, [name]: value }).variable).toBe(name);
  });

  it('prefers the Secrets Manager ARN over a plain token', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:upstash-AbCdEf';
    const config = loadConfig({
      ...base,
      UPSTASH_REDIS_REST_TOKEN: undefined,
      UPSTASH_REDIS_REST_TOKEN_SECRET_ARN: arn,
    });
    expect(config.upstash.token).toEqual({ kind: 'secret', arn });
  });

  it('runs the Go worker algorithm in seed mode: one entry at a time', () => {
    const config = loadConfig({ ...base, CONSUMER_MODE: 'seed', BATCH_SIZE: '50', MAX_CONCURRENCY: '16' });
    expect(config.consumer).toMatchObject({ mode: 'seed', batchSize: 1, maxConcurrency: 1 });
  });

  it('uses dummy credentials and a default region only with a local DynamoDB endpoint', () => {
    const config = loadConfig({ ...base, AWS_REGION: undefined, DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' });
    expect(config.dynamodb).toMatchObject({ region: 'us-east-1', localCredentials: { accessKeyId: 'local' } });
    expect(errorFor({ ...base, AWS_REGION: undefined }).variable).toBe('AWS_REGION');
  });
});
