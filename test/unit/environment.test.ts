import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../functions/runtime-job-results/config.js';
import type { Config } from '../../functions/runtime-job-results/config.js';
import {
  renderEnvironment,
  telemetryOf,
  VARIABLES,
  type VariableName,
} from '../../functions/runtime-job-results/environment.js';
import { configurationTable, DOCUMENTS_WITH_THE_TABLE } from '../../scripts/support/configuration-table.js';

const everythingChanged: Config = {
  streams: { results: 'a:results', stopJobs: 'a:stop', notificationIntents: 'a:intents', deadLetters: 'a:dead' },
  upstash: {
    url: 'https://eu1-example.upstash.io',
    token: { kind: 'secret', arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:upstash-AbCdEf' },
    timeoutMs: 250,
  },
  dynamodb: {
    gamesTable: 'games-x',
    offsetsTable: 'offsets-x',
    endpoint: undefined,
    region: 'eu-central-1',
    localCredentials: undefined,
  },
  gameMaster: { baseUrl: 'https://gm.internal:8443', timeoutMs: 100, token: { kind: 'value', value: 'gm-token' } },
  consumer: {
    mode: 'batched',
    batchSize: 7,
    prefetch: true,
    maxConcurrency: 3,
    maxAttempts: 9,
    timeBudgetMarginMs: 0,
    attemptsPerInvocation: 2,
    retryBackoffMs: 0,
    pollIntervalMs: 250,
    pollIdleMaxMs: 900,
  },
};

const telemetry = {
  serviceName: 'svc',
  metricsNamespace: 'Ns/X',
  logLevel: 'TRACE',
  stage: 'prod-eu',
  tracing: true,
} as const;

describe('renderEnvironment', () => {
  it('writes a configuration that loadConfig reads back unchanged, and telemetry the logger reads back', () => {
    const environment = renderEnvironment({ ...everythingChanged, telemetry });
    expect(loadConfig(environment)).toEqual(everythingChanged);
    expect(telemetryOf(environment)).toEqual(telemetry);
  });

  it('round-trips a local configuration: plain Upstash token, DynamoDB Local, seed mode', () => {
    const local = loadConfig({
      UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1',
      UPSTASH_REDIS_REST_TOKEN: 'token',
      GAMES_TABLE: 'games',
      OFFSETS_TABLE: 'offsets',
      DYNAMODB_ENDPOINT: 'http://127.0.0.1:2',
      GM_BASE_URL: 'http://127.0.0.1:3',
      CONSUMER_MODE: 'seed',
    });
    expect(loadConfig(renderEnvironment(local))).toEqual(local);
  });

  it('writes only what it is given, so the rest keeps the defaults', () => {
    const environment = renderEnvironment({
      upstash: { url: 'https://u', token: { kind: 'value', value: 't' } },
      dynamodb: { gamesTable: 'games', offsetsTable: 'offsets' },
      gameMaster: { baseUrl: 'http://gm' },
    });
    expect(environment).toEqual({
      UPSTASH_REDIS_REST_URL: 'https://u',
      UPSTASH_REDIS_REST_TOKEN: 't',
      GAMES_TABLE: 'games',
      OFFSETS_TABLE: 'offsets',
      GM_BASE_URL: 'http://gm',
    });
  });
});

describe('the variables table', () => {
  const integers = (Object.keys(VARIABLES) as VariableName[]).flatMap((name) => {
    const variable = VARIABLES[name];
    return variable.kind === 'integer' ? [[name, variable] as const] : [];
  });

  it.each(integers)('%s: its default is within its limits, which loadConfig enforces', (name, variable) => {
    const base = renderEnvironment(everythingChanged);
    expect(variable.default).toBeGreaterThanOrEqual(variable.min);
    expect(variable.default).toBeLessThanOrEqual(variable.max);
    expect(() => loadConfig({ ...base, [name]: String(variable.min) })).not.toThrow();
    expect(() => loadConfig({ ...base, [name]: String(variable.max) })).not.toThrow();
    for (const bad of [variable.min - 1, variable.max + 1].filter((value) => value >= 0)) {
      expect(() => loadConfig({ ...base, [name]: String(bad) })).toThrow(ConfigError);
    }
  });

  it('gives the logger its defaults when a value is bad, leaving the error to loadConfig', () => {
    const base = renderEnvironment(everythingChanged);
    expect(() => loadConfig({ ...base, POWERTOOLS_LOG_LEVEL: 'loud' })).toThrow('POWERTOOLS_LOG_LEVEL');
    expect(telemetryOf({ POWERTOOLS_LOG_LEVEL: 'loud', POWERTOOLS_SERVICE_NAME: ' ' })).toEqual({
      serviceName: 'lobby',
      metricsNamespace: 'Galaxy/Lobby',
      logLevel: 'INFO',
      tracing: false,
    });
    expect(telemetryOf({ POWERTOOLS_LOG_LEVEL: 'debug' }).logLevel).toBe('DEBUG');
    expect(() => loadConfig({ ...base, STAGE: 'prod stage' })).toThrow('STAGE');
    expect(telemetryOf({ STAGE: 'prod stage' })).not.toHaveProperty('stage');
  });

  it.each(DOCUMENTS_WITH_THE_TABLE)(
    'is the configuration table of %s (npm run docs:environment rewrites it)',
    (file) => {
      const document = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
      expect(document).toContain(configurationTable());
    },
  );
});
