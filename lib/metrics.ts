/**
 * The function's Powertools metrics, as CloudWatch sees them.
 *
 * Powertools writes EMF with the namespace from `POWERTOOLS_METRICS_NAMESPACE` and adds a
 * `service` dimension (from `POWERTOOLS_SERVICE_NAME`) to every metric, so a CloudWatch
 * metric only matches when its dimension map includes `service` too.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** `POWERTOOLS_METRICS_NAMESPACE` of the function. */
export const METRICS_NAMESPACE = 'Galaxy/Lobby';

/** `POWERTOOLS_SERVICE_NAME` of the function, and the value of every metric's `service` dimension. */
export const SERVICE_NAME = 'lobby';

/** Metric names emitted by the handler. */
export const MetricName = {
  /** Count, dimension `outcome` ∈ running | paused | start_failed. */
  outcomes: 'lobby.start_flow.outcomes',
  /** Count, dimensions `from_status`, `to_status`, `trigger`. */
  transitions: 'lobby.game.transitions',
  /** Count, dimension `result` ∈ applied | ignored | invalid | dead_lettered. */
  entries: 'lobby.start_flow.entries',
  /** Count, no extra dimension. */
  deadLetters: 'lobby.start_flow.dead_letters',
  /** Count, no extra dimension. */
  transientErrors: 'lobby.start_flow.transient_errors',
  /** Milliseconds: age of the oldest entry not yet done, emitted on every invocation. */
  lagAge: 'lobby.start_flow.consumer_lag_age',
  /** Count of entries not yet done. */
  lagEntries: 'lobby.start_flow.consumer_lag_entries',
} as const;

/** Values of the `outcome` dimension of {@link MetricName.outcomes}. */
export const OUTCOMES = ['running', 'paused', 'start_failed'] as const;

/** Values of the `result` dimension of {@link MetricName.entries}. */
export const ENTRY_RESULTS = ['applied', 'ignored', 'invalid', 'dead_lettered'] as const;

/** Options of {@link lobbyMetric}. */
export interface LobbyMetricOptions {
  /**
   * Dimensions besides `service`.
   *
   * @default - none
   */
  readonly dimensions?: Readonly<Record<string, string>>;
  /**
   * Statistic.
   *
   * @default 'Sum'
   */
  readonly statistic?: string;
  /**
   * Period.
   *
   * @default Duration.minutes(1)
   */
  readonly period?: Duration;
  /**
   * Graph label.
   *
   * @default - the metric name
   */
  readonly label?: string;
}

/** A metric of the consumer with the `service` dimension Powertools adds. */
export function lobbyMetric(metricName: string, options: LobbyMetricOptions = {}): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME, ...options.dimensions },
    statistic: options.statistic ?? 'Sum',
    period: options.period ?? Duration.minutes(1),
    ...(options.label === undefined ? {} : { label: options.label }),
  });
}
