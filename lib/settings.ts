/**
 * Checks the props of `StartFlowConsumer` and turns them into the settings its parts are built
 * from: every default applied, every derived value (timeout, reserved concurrency, lag
 * threshold) computed, every rule that keeps follow mode and the alarms working enforced. A
 * prop that breaks a rule throws a {@link StartFlowConsumerPropError} naming it.
 */
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { VARIABLES } from '../functions/runtime-job-results/environment.js';
import type { StreamNames, VariableOfKind } from '../functions/runtime-job-results/environment.js';
import { DEFAULTS } from './config.js';
import type { AlarmThresholds, ConsumerTuning } from './config.js';
import { StartFlowConsumerPropError } from './errors.js';
import { METRICS_NAMESPACE } from './metrics.js';
import type { StartFlowConsumerProps } from './props.js';

/** Lambda's hard ceiling on a function timeout. */
const MAX_LAMBDA_TIMEOUT_SECONDS = 900;

/**
 * Drain mode: seconds kept free between the end of one invocation's timeout and the next
 * tick, so two invocations never overlap even when one runs into its timeout.
 */
const SCHEDULE_HEADROOM_SECONDS = 10;

/**
 * Follow mode: seconds by which the next tick's invocation starts before the running one
 * stops following (at its timeout minus the margin). It covers the scheduler's delivery
 * delay and a cold start; the new invocation waits for the lease meanwhile.
 */
const FOLLOW_HANDOVER_SECONDS = 10;

/** A host under `.invalid` never resolves (RFC 2606): a placeholder someone left in. */
const PLACEHOLDER_HOST = /\.invalid$/;

/**
 * A stage name: 1-20 lowercase letters, digits or dashes, starting with a letter. Short
 * enough for the alarm, dashboard and secret names it goes into, and within what the
 * function accepts as `STAGE`.
 */
export const isStageName = (value: string): boolean => /^[a-z][a-z0-9-]{0,19}$/.test(value);

/** Everything the construct's parts are built from, checked and with its defaults. */
export interface ConsumerSettings {
  readonly stage?: string;
  readonly schedule: Duration;
  readonly scheduleEnabled: boolean;
  readonly followMode: boolean;
  readonly timeout: Duration;
  /** 2 in follow mode (the hand-over overlap), 1 in drain mode. */
  readonly reservedConcurrency: number;
  readonly memorySizeMb: number;
  readonly tracing: boolean;
  readonly metricsNamespace: string;
  readonly upstashRestUrl: string;
  readonly gameMasterBaseUrl: string;
  readonly streams: StreamNames;
  readonly tuning: ConsumerTuning;
  readonly logRetention: RetentionDays;
  readonly offsetsTableName?: string;
  readonly removalPolicy: RemovalPolicy;
  readonly alarms: AlarmThresholds;
  /** Problems that do not stop a synth but make the function fail (a placeholder URL). */
  readonly warnings: readonly string[];
}

/** Checks `props` and resolves every default; throws {@link StartFlowConsumerPropError} on the first bad prop. */
export function resolveSettings(props: StartFlowConsumerProps): ConsumerSettings {
  const warnings: string[] = [];

  const stage = props.stage;
  if (stage !== undefined && !isStageName(stage)) {
    throw new StartFlowConsumerPropError(
      'stage',
      'use 1-20 lowercase letters, digits or dashes, starting with a letter',
    );
  }

  // The Lambda props would drop them silently without a VPC; say so instead.
  for (const prop of ['vpcSubnets', 'securityGroups'] as const) {
    if (props[prop] !== undefined && props.vpc === undefined) {
      throw new StartFlowConsumerPropError(prop, 'has no effect without vpc');
    }
  }

  const schedule = props.schedule ?? Duration.minutes(DEFAULTS.scheduleRateMinutes);
  const periodMs = schedule.toMilliseconds();
  // Up to an hour: beyond that the lag alarm (three periods) would look back more than a day.
  if (periodMs % 60_000 !== 0 || periodMs < 60_000 || periodMs > 3_600_000) {
    throw new StartFlowConsumerPropError(
      'schedule',
      `${schedule.toHumanString()} is not a whole number of minutes from 1 to 60`,
    );
  }
  const periodSeconds = periodMs / 1000;

  const followMode = props.followMode ?? DEFAULTS.followMode;
  const timeBudgetMarginMs = milliseconds(props.timeBudgetMargin, 'timeBudgetMargin', 'TIME_BUDGET_MARGIN_MS');
  const marginSeconds = Math.ceil(timeBudgetMarginMs / 1000);
  const timeoutSeconds =
    props.timeout === undefined
      ? Math.min(
          followMode
            ? periodSeconds + marginSeconds + FOLLOW_HANDOVER_SECONDS
            : periodSeconds - SCHEDULE_HEADROOM_SECONDS,
          MAX_LAMBDA_TIMEOUT_SECONDS,
        )
      : wholeSeconds(props.timeout, 'timeout', 10, MAX_LAMBDA_TIMEOUT_SECONDS);
  if (timeBudgetMarginMs >= timeoutSeconds * 1000) {
    throw new StartFlowConsumerPropError(
      'timeBudgetMargin',
      `${timeBudgetMarginMs}ms leaves no time inside a ${timeoutSeconds}s timeout`,
    );
  }
  if (followMode) {
    // Each invocation follows until its timeout minus the margin; the next tick must come
    // before that, or the stream goes unfollowed until it does.
    if (timeoutSeconds * 1000 - timeBudgetMarginMs <= periodMs) {
      throw new StartFlowConsumerPropError(
        'timeout',
        `${timeoutSeconds}s minus the ${timeBudgetMarginMs}ms margin does not outlast the schedule period of ` +
          `${periodSeconds}s, so follow mode would leave gaps (a longer timeout, a shorter schedule, or followMode: false); ` +
          `Lambda's timeout ends at ${MAX_LAMBDA_TIMEOUT_SECONDS}s`,
      );
    }
    // Two invocations overlap at a hand-over; a third would find the concurrency taken.
    if (timeoutSeconds >= 2 * periodSeconds) {
      throw new StartFlowConsumerPropError(
        'timeout',
        `${timeoutSeconds}s spans two schedule periods of ${periodSeconds}s; follow mode overlaps only two invocations`,
      );
    }
  } else if (timeoutSeconds >= periodSeconds) {
    // With reserved concurrency 1 an invocation that outlives the period makes the next tick
    // queue behind it; keeping the timeout below the period rules that out by construction.
    throw new StartFlowConsumerPropError(
      'timeout',
      `${timeoutSeconds}s is not shorter than the schedule period of ${periodSeconds}s (drain mode)`,
    );
  }
  if (!followMode && props.pollInterval !== undefined) {
    throw new StartFlowConsumerPropError('pollInterval', 'only follow mode polls; leave it out with followMode: false');
  }
  const pollIntervalMs = followMode
    ? props.pollInterval === undefined
      ? DEFAULTS.tuning.pollIntervalMs
      : inRange(props.pollInterval.toMilliseconds(), 'pollInterval', 1, VARIABLES.POLL_INTERVAL_MS.max)
    : 0;

  // The lag metric comes once per period (as an invocation ends), and in drain mode entries
  // wait up to one period for the next tick, so a threshold within one period could fire on
  // a healthy consumer; the default grows with slow schedules for that reason.
  const lagAgeSeconds =
    props.alarmThresholds?.lagAge === undefined
      ? Math.max(DEFAULTS.alarms.lagAgeSeconds, 2 * periodSeconds)
      : wholeSeconds(props.alarmThresholds.lagAge, 'alarmThresholds.lagAge', 60, 86_400);
  if (lagAgeSeconds <= periodSeconds) {
    throw new StartFlowConsumerPropError(
      'alarmThresholds.lagAge',
      `${lagAgeSeconds}s is not longer than the schedule period of ${periodSeconds}s`,
    );
  }

  const logRetention = props.logRetention ?? (DEFAULTS.logRetentionDays as RetentionDays);
  if (!Object.values(RetentionDays).includes(logRetention)) {
    throw new StartFlowConsumerPropError('logRetention', `${logRetention} is not a retention CloudWatch Logs accepts`);
  }

  const upstashRestUrl = url(props.upstash.restUrl, 'upstash.restUrl', ['https:'], warnings);
  const gameMasterBaseUrl = url(props.gameMaster.baseUrl, 'gameMaster.baseUrl', ['https:', 'http:'], warnings);
  // The function refuses it at cold start too; failing the synth says so before a deploy.
  if (props.gameMaster.token !== undefined && gameMasterBaseUrl.startsWith('http:')) {
    throw new StartFlowConsumerPropError(
      'gameMaster.baseUrl',
      'must be an https:// URL while gameMaster.token is set: the token would cross the network in clear',
    );
  }

  const metricsNamespace = props.metricsNamespace ?? METRICS_NAMESPACE;
  // CloudWatch's rules for a namespace; `AWS/` belongs to AWS services.
  if (!/^[A-Za-z0-9._/#:-]{1,255}$/.test(metricsNamespace) || metricsNamespace.startsWith('AWS/')) {
    throw new StartFlowConsumerPropError(
      'metricsNamespace',
      'use up to 255 letters, digits or . _ / # : -, not starting with AWS/',
    );
  }

  const streams = { ...DEFAULTS.streams, ...props.streams };
  for (const [name, key] of Object.entries(streams)) {
    if (key.trim() === '') throw new StartFlowConsumerPropError(`streams.${name}`, 'must not be empty');
  }

  if (props.offsetsTableName !== undefined && !Token.isUnresolved(props.offsetsTableName)) {
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(props.offsetsTableName)) {
      throw new StartFlowConsumerPropError('offsetsTableName', 'expected a DynamoDB table name');
    }
  }

  const tuning = props.tuning ?? {};
  const mode = tuning.mode ?? DEFAULTS.tuning.mode;
  if (!(VARIABLES.CONSUMER_MODE.choices as readonly string[]).includes(mode)) {
    throw new StartFlowConsumerPropError(
      'tuning.mode',
      `expected one of ${VARIABLES.CONSUMER_MODE.choices.join(', ')}`,
    );
  }
  const logLevel = props.logLevel ?? DEFAULTS.tuning.logLevel;
  if (!(VARIABLES.POWERTOOLS_LOG_LEVEL.choices as readonly string[]).includes(logLevel)) {
    throw new StartFlowConsumerPropError(
      'logLevel',
      `expected one of ${VARIABLES.POWERTOOLS_LOG_LEVEL.choices.join(', ')}`,
    );
  }

  return {
    ...(stage === undefined ? {} : { stage }),
    schedule,
    scheduleEnabled: props.scheduleEnabled ?? DEFAULTS.scheduleEnabled,
    followMode,
    timeout: Duration.seconds(timeoutSeconds),
    reservedConcurrency: followMode ? 2 : 1,
    memorySizeMb:
      props.memorySize === undefined ? DEFAULTS.memorySizeMb : inRange(props.memorySize, 'memorySize', 128, 10_240),
    tracing: props.tracing ?? false,
    metricsNamespace,
    upstashRestUrl,
    gameMasterBaseUrl,
    streams,
    tuning: {
      batchSize: integerOf(tuning.batchSize, 'tuning.batchSize', 'BATCH_SIZE'),
      maxConcurrency: integerOf(tuning.maxConcurrency, 'tuning.maxConcurrency', 'MAX_CONCURRENCY'),
      maxAttempts: integerOf(tuning.maxAttempts, 'tuning.maxAttempts', 'MAX_ATTEMPTS'),
      mode,
      gmTimeoutMs: milliseconds(props.gameMaster.timeout, 'gameMaster.timeout', 'GM_TIMEOUT_MS'),
      timeBudgetMarginMs,
      pollIntervalMs,
      logLevel,
    },
    logRetention,
    ...(props.offsetsTableName === undefined ? {} : { offsetsTableName: props.offsetsTableName }),
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    alarms: {
      lagAgeSeconds,
      functionErrors: threshold(props.alarmThresholds?.functionErrors, 'functionErrors'),
      deadLetters: threshold(props.alarmThresholds?.deadLetters, 'deadLetters'),
      pausedGames: threshold(props.alarmThresholds?.pausedGames, 'pausedGames'),
    },
    warnings,
  };
}

/** `value` when it is an integer in [min, max]. */
function inRange(value: number, prop: string, min: number, max: number): number {
  if (!Number.isInteger(value)) throw new StartFlowConsumerPropError(prop, `expected an integer, got ${value}`);
  if (value < min || value > max) throw new StartFlowConsumerPropError(prop, `expected a value from ${min} to ${max}`);
  return value;
}

/** An integer within the limits of the function's variable `name`, or that variable's default. */
function integerOf(value: number | undefined, prop: string, name: VariableOfKind<'integer'>): number {
  const { min, max, default: fallback } = VARIABLES[name];
  return value === undefined ? fallback : inRange(value, prop, min, max);
}

/** A duration in whole milliseconds within the limits of the function's variable `name`. */
function milliseconds(value: Duration | undefined, prop: string, name: VariableOfKind<'integer'>): number {
  const { min, max, default: fallback } = VARIABLES[name];
  return value === undefined ? fallback : inRange(value.toMilliseconds(), prop, min, max);
}

/** A duration in whole seconds within [min, max]. */
function wholeSeconds(value: Duration, prop: string, min: number, max: number): number {
  const ms = value.toMilliseconds();
  if (ms % 1000 !== 0) throw new StartFlowConsumerPropError(prop, `${value.toHumanString()} is not whole seconds`);
  return inRange(ms / 1000, prop, min, max);
}

function threshold(value: number | undefined, name: keyof Omit<AlarmThresholds, 'lagAgeSeconds'>): number {
  return value === undefined ? DEFAULTS.alarms[name] : inRange(value, `alarmThresholds.${name}`, 1, 10_000);
}

/**
 * An absolute URL with one of the given protocols, without a trailing slash. A token (a
 * value known only at deploy time) is passed through unchecked.
 */
function url(value: string, prop: string, protocols: readonly string[], warnings: string[]): string {
  if (Token.isUnresolved(value)) return value;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new StartFlowConsumerPropError(prop, 'expected an absolute URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new StartFlowConsumerPropError(prop, `expected a ${protocols.join(' or ')} URL`);
  }
  // Credentials in a URL would end up in the template and the function's environment.
  if (parsed.username !== '' || parsed.password !== '') {
    throw new StartFlowConsumerPropError(prop, 'the URL must not carry credentials; tokens belong in Secrets Manager');
  }
  if (PLACEHOLDER_HOST.test(parsed.hostname)) {
    warnings.push(
      `${prop} is ${value}, a host that never resolves: the function fails until it is set to the real one.`,
    );
  }
  return value.replace(/\/+$/, '');
}
