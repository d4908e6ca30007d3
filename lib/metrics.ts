/**
 * The function's Powertools metrics, as CloudWatch sees them.
 *
 * Powertools writes EMF in the namespace from `POWERTOOLS_METRICS_NAMESPACE` and adds a
 * `service` dimension (from `POWERTOOLS_SERVICE_NAME`) to every metric, and a `stage`
 * dimension when `STAGE` is set, so a CloudWatch metric only matches when its dimension map
 * includes exactly those too.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { VARIABLES } from '../functions/runtime-job-results/environment.js';
import { EntryResult } from '../functions/runtime-job-results/start-flow/outcome.js';
import { StartFlowOutcome } from '../functions/runtime-job-results/telemetry/metric-names.js';

/** `POWERTOOLS_METRICS_NAMESPACE` when none is given: the function's own default. */
export const METRICS_NAMESPACE = VARIABLES.POWERTOOLS_METRICS_NAMESPACE.default;

/** `POWERTOOLS_SERVICE_NAME` of the function, and the value of every metric's `service` dimension. */
export const SERVICE_NAME = VARIABLES.POWERTOOLS_SERVICE_NAME.default;

/** Metric names emitted by the handler: the handler's own list, so the two cannot drift. */
export { MetricName } from '../functions/runtime-job-results/telemetry/metric-names.js';

/** Values of the `outcome` dimension of `lobby.start_flow.outcomes`. */
export const OUTCOMES = Object.values(StartFlowOutcome);

/** Values of the `result` dimension of `lobby.start_flow.entries`. */
export const ENTRY_RESULTS = Object.values(EntryResult);

/** Options of {@link ConsumerMetrics.metric}. */
export interface ConsumerMetricOptions {
  /**
   * Dimensions besides `service` and `stage`.
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

/** The metrics of one consumer: its namespace, and its stage's dimension when it has one. */
export class ConsumerMetrics {
  /** `service`, and `stage` when the consumer has one: the dimensions of every metric it emits. */
  readonly dimensions: Readonly<Record<string, string>>;

  constructor(
    readonly namespace: string,
    readonly stage: string | undefined,
  ) {
    this.dimensions = { service: SERVICE_NAME, ...(stage === undefined ? {} : { stage }) };
  }

  /** One of the consumer's metrics, with its own dimensions added to `service` (and `stage`). */
  metric(metricName: string, options: ConsumerMetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName,
      dimensionsMap: { ...this.dimensions, ...options.dimensions },
      statistic: options.statistic ?? 'Sum',
      period: options.period ?? Duration.minutes(1),
      ...(options.label === undefined ? {} : { label: options.label }),
    });
  }

  /**
   * Every metric called `metricName` of this consumer whose other dimensions are `dimensions`,
   * whatever their values: for open-ended dimensions such as a transition's statuses.
   */
  search(metricName: string, dimensions: readonly string[], period: Duration): cloudwatch.MathExpression {
    const schema = [this.namespace, ...Object.keys(this.dimensions), ...dimensions].join(',');
    const filters = Object.entries(this.dimensions)
      .map(([name, value]) => `${name}="${value}"`)
      .join(' ');
    return new cloudwatch.MathExpression({
      expression: `SEARCH('{${schema}} MetricName="${metricName}" ${filters}', 'Sum', ${period.toSeconds()})`,
      label: '',
      period,
      usingMetrics: {},
    });
  }
}
