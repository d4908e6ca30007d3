/**
 * The handler's environment for a consumer running against local pieces: the one mapping
 * the demo, the tests, the soak and the benchmark share, so a new variable is added once.
 */

/** The four stream keys of one consumer. */
export interface ConsumerStreams {
  readonly results: string;
  readonly stopJobs: string;
  readonly intents: string;
  readonly dead: string;
}

export interface ConsumerTargets {
  readonly streams: ConsumerStreams;
  readonly upstash: { readonly url: string; readonly token: string };
  readonly gamesTable: string;
  readonly offsetsTable: string;
  /** DynamoDB Local, or a fault proxy in front of it. */
  readonly dynamodbEndpoint: string;
  readonly gameMasterUrl: string;
}

/** Stream keys under `prefix`, named like the production ones. */
export const prefixedStreams = (prefix: string): ConsumerStreams => ({
  results: `${prefix}:runtime:job_results`,
  stopJobs: `${prefix}:runtime:stop_jobs`,
  intents: `${prefix}:notification:intents`,
  dead: `${prefix}:runtime:job_results:dead`,
});

/** The variables (docs/contract.md §8) that point the handler at `targets`. */
export const consumerEnv = (targets: ConsumerTargets): Record<string, string> => ({
  RESULTS_STREAM: targets.streams.results,
  STOP_JOBS_STREAM: targets.streams.stopJobs,
  NOTIFICATION_INTENTS_STREAM: targets.streams.intents,
  DEAD_LETTER_STREAM: targets.streams.dead,
  UPSTASH_REDIS_REST_URL: targets.upstash.url,
  UPSTASH_REDIS_REST_TOKEN: targets.upstash.token,
  GAMES_TABLE: targets.gamesTable,
  OFFSETS_TABLE: targets.offsetsTable,
  DYNAMODB_ENDPOINT: targets.dynamodbEndpoint,
  AWS_REGION: 'us-east-1',
  GM_BASE_URL: targets.gameMasterUrl,
});
