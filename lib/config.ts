/**
 * The defaults of the start-flow consumer, shared by the construct (`StartFlowConsumer`), the
 * repository's app and the bench. The tuning defaults and limits are the function's own, from
 * functions/runtime-job-results/environment.ts, so a value the construct accepts is one the
 * function accepts.
 */
import { DEFAULT_STREAMS, VARIABLES } from '../functions/runtime-job-results/environment.js';
import type { ConsumerMode, LogLevel, StreamNames } from '../functions/runtime-job-results/environment.js';

/** Tuning values handed to the function through its environment. */
export interface ConsumerTuning {
  /** Stream entries read per batch (`BATCH_SIZE`). */
  readonly batchSize: number;
  /** Entries processed in parallel (`MAX_CONCURRENCY`). */
  readonly maxConcurrency: number;
  /** Attempts before an entry is dead-lettered (`MAX_ATTEMPTS`). */
  readonly maxAttempts: number;
  /** Consumer mode (`CONSUMER_MODE`). */
  readonly mode: ConsumerMode;
  /** Timeout of one Game Master call in milliseconds (`GM_TIMEOUT_MS`). */
  readonly gmTimeoutMs: number;
  /** Time left unused before the Lambda deadline, in milliseconds (`TIME_BUDGET_MARGIN_MS`). */
  readonly timeBudgetMarginMs: number;
  /**
   * Follow mode's poll interval in milliseconds (`POLL_INTERVAL_MS`); 0 when follow mode is
   * off, so each invocation drains the stream and returns.
   */
  readonly pollIntervalMs: number;
  /** Powertools log level (`POWERTOOLS_LOG_LEVEL`). */
  readonly logLevel: LogLevel;
}

/** Alarm thresholds. */
export interface AlarmThresholds {
  /** Alarm when the oldest unfinished stream entry is older than this many seconds. */
  readonly lagAgeSeconds: number;
  /** Alarm when the function reports at least this many errors in each of 3 of 5 schedule periods. */
  readonly functionErrors: number;
  /** Alarm when at least this many entries are dead-lettered in five minutes. */
  readonly deadLetters: number;
  /** Alarm when at least this many games are paused in five minutes, and no fewer than reach `running`. */
  readonly pausedGames: number;
}

/** Default values of every optional setting, exported so tests and docs can refer to them. */
export const DEFAULTS = {
  stage: 'dev',
  throwaway: false,
  scheduleRateMinutes: 1,
  scheduleEnabled: true,
  followMode: true,
  // 1,024 MB = 0.58 vCPU, for a burst's tail latency (docs/deployment.md, "Memory size"; figures in docs/performance.md).
  memorySizeMb: 1_024,
  logRetentionDays: 30,
  gameMasterAuth: true,
  streams: DEFAULT_STREAMS,
  tuning: {
    batchSize: VARIABLES.BATCH_SIZE.default,
    maxConcurrency: VARIABLES.MAX_CONCURRENCY.default,
    maxAttempts: VARIABLES.MAX_ATTEMPTS.default,
    mode: VARIABLES.CONSUMER_MODE.default,
    gmTimeoutMs: VARIABLES.GM_TIMEOUT_MS.default,
    timeBudgetMarginMs: VARIABLES.TIME_BUDGET_MARGIN_MS.default,
    // The stack follows by default (the handler's own default, 0, drains): a result within a second.
    pollIntervalMs: 250,
    logLevel: VARIABLES.POWERTOOLS_LOG_LEVEL.default,
  },
  alarms: {
    lagAgeSeconds: 300,
    functionErrors: 1,
    deadLetters: 1,
    pausedGames: 3,
  },
} as const satisfies {
  readonly stage: string;
  readonly throwaway: boolean;
  readonly scheduleRateMinutes: number;
  readonly scheduleEnabled: boolean;
  readonly followMode: boolean;
  readonly memorySizeMb: number;
  readonly logRetentionDays: number;
  readonly gameMasterAuth: boolean;
  readonly streams: StreamNames;
  readonly tuning: ConsumerTuning;
  readonly alarms: AlarmThresholds;
};
