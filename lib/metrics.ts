/**
 * The function's Powertools metrics, as CloudWatch sees them.
 *
 * Powertools writes EMF with the namespace from `POWERTOOLS_METRICS_NAMESPACE` and adds a
 * `service` dimension (from `POWERTOOLS_SERVICE_NAME`) to every metric, so a CloudWatch
 * metric only matches when its dimension map includes `service` too.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { VARIABLES } from '../functions/runtime-job-results/environment.js';
import { EntryResult } from '../functions/runtime-job-results/start-flow/outcome.js';
import { StartFlowOutcome } from '../functions/runtime-job-results/telemetry/metric-names.js';

/** `POWERTOOLS_METRICS_NAMESPACE` of the function: the function's default, which the stack sets. */
export const METRICS_NAMESPACE = VARIABLES.POWERTOOLS_METRICS_NAMESPACE.default;

/** `POWERTOOLS_SERVICE_NAME` of the function, and the value of every metric's `service` dimension. */
export const SERVICE_NAME = VARIABLES.POWERTOOLS_SERVICE_NAME.default;

/** Metric names emitted by the handler: the handler's own list, so the two cannot drift. */
export { MetricName } from '../functions/runtime-job-results/telemetry/metric-names.js';

/** Values of the `outcome` dimension of `lobby.start_flow.outcomes`. */
export const OUTCOMES = Object.values(StartFlowOutcome);

/** Values of the `result` dimension of `lobby.start_flow.entries`. */
export const ENTRY_RESULTS = Object.values(EntryResult);

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
