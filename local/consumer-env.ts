/**
 * The handler's environment for a consumer running against local pieces: the one mapping
 * the demo, the tests, the soak and the benchmark share. The variables themselves are
 * written by the function's own `renderEnvironment`, so a new variable is added once.
 */
import { DEFAULT_STREAMS, renderEnvironment } from '../functions/runtime-job-results/environment.js';
import type { EnvironmentSettings, StreamNames } from '../functions/runtime-job-results/environment.js';

export interface ConsumerTargets {
  readonly streams: StreamNames;
  readonly upstash: { readonly url: string; readonly token: string };
  readonly gamesTable: string;
  readonly offsetsTable: string;
  /** DynamoDB Local, or a fault proxy in front of it. */
  readonly dynamodbEndpoint: string;
  readonly gameMasterUrl: string;
}

/** Settings beyond the targets; what is left out keeps the function's default. */
export interface ConsumerTuning {
  readonly gameMasterTimeoutMs?: number;
  readonly consumer?: EnvironmentSettings['consumer'];
  readonly telemetry?: EnvironmentSettings['telemetry'];
}

/** Stream keys under `prefix`, named like the production ones. */
export const prefixedStreams = (prefix: string): StreamNames => ({
  results: `${prefix}:${DEFAULT_STREAMS.results}`,
  stopJobs: `${prefix}:${DEFAULT_STREAMS.stopJobs}`,
  notificationIntents: `${prefix}:${DEFAULT_STREAMS.notificationIntents}`,
  deadLetters: `${prefix}:${DEFAULT_STREAMS.deadLetters}`,
});

/** The variables (docs/contract.md §8) that point the handler at `targets`, with `tuning` on top. */
export const consumerEnv = (targets: ConsumerTargets, tuning: ConsumerTuning = {}): Record<string, string> =>
  renderEnvironment({
    streams: targets.streams,
    upstash: { url: targets.upstash.url, token: { kind: 'value', value: targets.upstash.token } },
    dynamodb: {
      gamesTable: targets.gamesTable,
      offsetsTable: targets.offsetsTable,
      endpoint: targets.dynamodbEndpoint,
      // DynamoDB Local accepts any region; a fixed one keeps the shell's AWS_REGION out of it.
      region: 'us-east-1',
    },
    gameMaster: { baseUrl: targets.gameMasterUrl, timeoutMs: tuning.gameMasterTimeoutMs },
    consumer: tuning.consumer,
    telemetry: tuning.telemetry,
  });
