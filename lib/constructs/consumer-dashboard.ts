import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ENTRY_RESULTS, MetricName, OUTCOMES } from '../metrics.js';
import type { ConsumerMetrics } from '../metrics.js';

/** What {@link consumerDashboard} shows. */
export interface ConsumerDashboardProps {
  /** Dashboard name: dashboards are global to an account, so it carries the stage and the region. */
  readonly name: string;
  /** The consumer's metrics (its namespace and stage). */
  readonly metrics: ConsumerMetrics;
  /** The consumer function. */
  readonly function: lambda.IFunction;
  /** Queue of scheduler ticks that were not delivered. */
  readonly scheduleDeadLetterQueue: sqs.IQueue;
  /** Queue of failed asynchronous invocations. */
  readonly invocationFailureQueue: sqs.IQueue;
  /** The alarms, shown first. */
  readonly alarms: readonly cloudwatch.IAlarm[];
  /** The lag alarm's threshold, drawn on the lag graph. */
  readonly lagThreshold: Duration;
}

/**
 * The start flow's dashboard: alarms, outcomes, status transitions, lag, entries by result,
 * dead letters and transient errors, duration, invocations and errors, follow mode.
 */
export function consumerDashboard(scope: Construct, id: string, props: ConsumerDashboardProps): cloudwatch.Dashboard {
  const { metrics, lagThreshold } = props;
  const dashboard = new cloudwatch.Dashboard(scope, id, {
    dashboardName: props.name,
    defaultInterval: Duration.hours(6),
  });
  const fiveMinutes = Duration.minutes(5);

  const outcomes = OUTCOMES.map((outcome) =>
    metrics.metric(MetricName.startFlowOutcomes, { dimensions: { outcome }, label: outcome, period: fiveMinutes }),
  );
  const entries = ENTRY_RESULTS.map((result) =>
    metrics.metric(MetricName.entries, { dimensions: { result }, label: result, period: fiveMinutes }),
  );
  // Transition dimensions are open-ended (every from/to/trigger triple), so search for them.
  const transitions = metrics.search(MetricName.gameTransitions, ['from_status', 'to_status', 'trigger'], fiveMinutes);

  dashboard.addWidgets(
    new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 3 }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({ title: 'Start flow outcomes', left: outcomes, stacked: true, width: 12 }),
    new cloudwatch.GraphWidget({ title: 'Game status transitions', left: [transitions], width: 12 }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Consumer lag',
      left: [
        metrics.metric(MetricName.consumerLagAge, {
          statistic: 'Maximum',
          label: 'oldest unfinished entry age (ms)',
        }),
      ],
      right: [metrics.metric(MetricName.consumerLagEntries, { statistic: 'Maximum', label: 'unfinished entries' })],
      leftAnnotations: [{ value: lagThreshold.toMilliseconds(), label: 'lag alarm threshold' }],
      width: 12,
    }),
    new cloudwatch.GraphWidget({ title: 'Entries by result', left: entries, stacked: true, width: 12 }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Dead letters and transient errors',
      left: [
        metrics.metric(MetricName.deadLetters, { label: 'dead letters', period: fiveMinutes }),
        metrics.metric(MetricName.transientErrors, { label: 'transient errors', period: fiveMinutes }),
        metrics.metric(MetricName.publishAbandoned, { label: 'messages given up', period: fiveMinutes }),
        metrics.metric(MetricName.entriesTrimmed, { label: 'trimmed before read', period: fiveMinutes }),
      ],
      right: [
        props.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          label: 'undelivered ticks',
          statistic: 'Maximum',
        }),
        props.invocationFailureQueue.metricApproximateNumberOfMessagesVisible({
          label: 'failed invocations',
          statistic: 'Maximum',
        }),
      ],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Duration',
      left: [
        props.function.metricDuration({ statistic: 'p50', label: 'p50' }),
        props.function.metricDuration({ statistic: 'p99', label: 'p99' }),
        props.function.metricDuration({ statistic: 'Maximum', label: 'max' }),
      ],
      width: 6,
    }),
    new cloudwatch.GraphWidget({
      title: 'Invocations and errors',
      left: [
        props.function.metricInvocations({ label: 'invocations' }),
        props.function.metricErrors({ label: 'errors' }),
        props.function.metricThrottles({ label: 'throttles' }),
      ],
      width: 6,
    }),
  );
  // Follow mode: how long each invocation followed the stream, how many of its reads came
  // back empty (its Upstash cost while idle), and how long it waited to take over.
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Follow mode',
      left: [
        metrics.metric(MetricName.followed, { statistic: 'Maximum', label: 'time followed (ms)' }),
        metrics.metric(MetricName.handoverWait, { statistic: 'Maximum', label: 'hand-over wait (ms)' }),
      ],
      right: [metrics.metric(MetricName.emptyPolls, { label: 'empty polls' })],
      width: 12,
    }),
  );
  return dashboard;
}
