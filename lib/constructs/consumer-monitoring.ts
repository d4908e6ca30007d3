import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENTRY_RESULTS, lobbyMetric, METRICS_NAMESPACE, MetricName, OUTCOMES, SERVICE_NAME } from '../metrics.js';

/** Properties of {@link ConsumerMonitoring}. */
export interface ConsumerMonitoringProps {
  /** Stage name, used in the dashboard name. */
  readonly stage: string;
  /** The consumer function. */
  readonly function: lambda.IFunction;
  /** Time between two scheduled invocations: the natural period of the lag alarm. */
  readonly scheduleRate: Duration;
  /** Queue of scheduler ticks that were not delivered. */
  readonly scheduleDeadLetterQueue: sqs.IQueue;
  /** Queue of failed asynchronous invocations. */
  readonly invocationFailureQueue: sqs.IQueue;
  /**
   * Alarm when the oldest unfinished stream entry is older than this.
   *
   * @default Duration.minutes(5)
   */
  readonly lagAgeThreshold?: Duration;
  /**
   * Alarm when the function reports at least this many errors in five minutes.
   *
   * @default 1
   */
  readonly functionErrorsThreshold?: number;
  /**
   * Alarm when at least this many entries are dead-lettered in five minutes.
   *
   * @default 1
   */
  readonly deadLettersThreshold?: number;
  /**
   * Removal policy of the topic's KMS key.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly keyRemovalPolicy?: RemovalPolicy;
}

/**
 * Alarms to an encrypted SNS topic, and a dashboard of the start flow.
 *
 * The topic uses a customer-managed key because CloudWatch alarms cannot publish to a topic
 * encrypted with the AWS-managed `alias/aws/sns` key (its policy cannot be extended to the
 * CloudWatch service). Nobody is subscribed here: operators subscribe their own endpoints
 * (docs/deployment.md).
 */
export class ConsumerMonitoring extends Construct {
  /** Topic every alarm notifies, on ALARM and on OK. */
  readonly topic: sns.Topic;
  /** The alarms, by purpose. */
  readonly alarms: {
    readonly functionErrors: cloudwatch.Alarm;
    readonly lagAge: cloudwatch.Alarm;
    readonly deadLetters: cloudwatch.Alarm;
    readonly offsetAheadOfStream: cloudwatch.Alarm;
    readonly publishAbandoned: cloudwatch.Alarm;
    readonly entriesTrimmed: cloudwatch.Alarm;
    readonly undeliveredTicks: cloudwatch.Alarm;
    readonly failedInvocations: cloudwatch.Alarm;
  };
  /** The dashboard. */
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ConsumerMonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);

    const key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the start-flow consumer alarm topic',
      enableKeyRotation: true,
      removalPolicy: props.keyRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    // CloudWatch publishes alarm notifications as itself, so the key must let it encrypt;
    // limited to alarms of this account.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );

    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `Galaxy start flow (${props.stage}) alarms`,
      masterKey: key,
      enforceSSL: true,
    });

    const functionErrors = new cloudwatch.Alarm(this, 'FunctionErrors', {
      alarmDescription: 'The start-flow consumer failed (an exception, a timeout or a crash). See its log group.',
      metric: props.function.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: props.functionErrorsThreshold ?? 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const lagThreshold = props.lagAgeThreshold ?? Duration.minutes(5);
    const lagAge = new cloudwatch.Alarm(this, 'LagAge', {
      alarmDescription:
        `The oldest unfinished job result is older than ${lagThreshold.toHumanString()}, or the consumer ` +
        'stopped reporting lag (it emits the metric on every invocation, so silence means it is not running).',
      metric: lobbyMetric(MetricName.consumerLagAge, { statistic: 'Maximum', period: props.scheduleRate }),
      threshold: lagThreshold.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // Two of three periods: one late or missing datapoint is not an incident, two are.
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });

    const deadLetters = this.anyInFiveMinutes(
      'DeadLetters',
      MetricName.deadLetters,
      'Job results were moved to the dead-letter stream. Inspect and replay them.',
      props.deadLettersThreshold ?? 1,
    );

    // The results stream was recreated (or the offset set by hand past its end): new results
    // would be skipped until an operator moves the offset (docs/runbook.md).
    const offsetAheadOfStream = this.anyInFiveMinutes(
      'OffsetAheadOfStream',
      MetricName.offsetAhead,
      'The consumer offset is past the last id of the results stream, so new results are not read. ' +
        'Check the stream and move the offset with `npm run ops -- offset set`.',
      1,
    );

    // Messages given up after MAX_ATTEMPTS tries are only in the error log (an intent also in
    // its game's outbox): someone must resend them (docs/runbook.md, `npm run ops -- replay`).
    const publishAbandoned = this.anyInFiveMinutes(
      'PublishAbandoned',
      MetricName.publishAbandoned,
      'The messages of a job result (a notification intent, a dead letter) could not be published after ' +
        'MAX_ATTEMPTS tries and were written to the error log instead. Resend them with `npm run ops -- replay`.',
      1,
    );

    // Results were trimmed from the stream (MAXLEN, XTRIM) before the consumer read them:
    // they are gone, and the games they were for may be stuck in `starting`.
    const entriesTrimmed = this.anyInFiveMinutes(
      'EntriesTrimmed',
      MetricName.entriesTrimmed,
      'Job results after the consumer offset were trimmed from the results stream before they were read. ' +
        'Find the games they were for (docs/runbook.md, "Entries trimmed before they were read").',
      1,
    );

    const undeliveredTicks = this.queueNotEmpty(
      'UndeliveredTicks',
      props.scheduleDeadLetterQueue,
      'EventBridge Scheduler could not invoke the start-flow consumer; the ticks are in the schedule dead-letter queue.',
    );
    const failedInvocations = this.queueNotEmpty(
      'FailedInvocations',
      props.invocationFailureQueue,
      'An asynchronous invocation of the start-flow consumer failed or expired; its record is in the failed-invocations queue.',
    );

    this.alarms = {
      functionErrors,
      lagAge,
      deadLetters,
      offsetAheadOfStream,
      publishAbandoned,
      entriesTrimmed,
      undeliveredTicks,
      failedInvocations,
    };
    const notify = new actions.SnsAction(this.topic);
    for (const alarm of Object.values(this.alarms)) {
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
    }

    this.dashboard = this.buildDashboard(props, lagThreshold);
  }

  /** Fires when `metric` reaches `threshold` within one five-minute period: each one needs a look. */
  private anyInFiveMinutes(
    id: string,
    metric: Parameters<typeof lobbyMetric>[0],
    description: string,
    threshold: number,
  ): cloudwatch.Alarm {
    return new cloudwatch.Alarm(this, id, {
      alarmDescription: description,
      metric: lobbyMetric(metric, { period: Duration.minutes(5) }),
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  private queueNotEmpty(id: string, queue: sqs.IQueue, description: string): cloudwatch.Alarm {
    return new cloudwatch.Alarm(this, id, {
      alarmDescription: description,
      metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  private buildDashboard(props: ConsumerMonitoringProps, lagThreshold: Duration): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `galaxy-start-flow-${props.stage}`,
      defaultInterval: Duration.hours(6),
    });

    const outcomes = OUTCOMES.map((outcome) =>
      lobbyMetric(MetricName.startFlowOutcomes, {
        dimensions: { outcome },
        label: outcome,
        period: Duration.minutes(5),
      }),
    );
    const entries = ENTRY_RESULTS.map((result) =>
      lobbyMetric(MetricName.entries, { dimensions: { result }, label: result, period: Duration.minutes(5) }),
    );
    // Transition dimensions are open-ended (every from/to/trigger triple), so search for them.
    const transitions = new cloudwatch.MathExpression({
      expression:
        `SEARCH('{${METRICS_NAMESPACE},service,from_status,to_status,trigger} ` +
        `MetricName="${MetricName.gameTransitions}" service="${SERVICE_NAME}"', 'Sum', 300)`,
      label: '',
      period: Duration.minutes(5),
      usingMetrics: {},
    });

    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: Object.values(this.alarms),
        width: 24,
        height: 3,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Start flow outcomes', left: outcomes, stacked: true, width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Game status transitions', left: [transitions], width: 12 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Consumer lag',
        left: [
          lobbyMetric(MetricName.consumerLagAge, { statistic: 'Maximum', label: 'oldest unfinished entry age (ms)' }),
        ],
        right: [lobbyMetric(MetricName.consumerLagEntries, { statistic: 'Maximum', label: 'unfinished entries' })],
        leftAnnotations: [{ value: lagThreshold.toMilliseconds(), label: 'lag alarm threshold' }],
        width: 12,
      }),
      new cloudwatch.GraphWidget({ title: 'Entries by result', left: entries, stacked: true, width: 12 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Dead letters and transient errors',
        left: [
          lobbyMetric(MetricName.deadLetters, { label: 'dead letters', period: Duration.minutes(5) }),
          lobbyMetric(MetricName.transientErrors, { label: 'transient errors', period: Duration.minutes(5) }),
          lobbyMetric(MetricName.publishAbandoned, { label: 'messages given up', period: Duration.minutes(5) }),
          lobbyMetric(MetricName.entriesTrimmed, { label: 'trimmed before read', period: Duration.minutes(5) }),
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
          lobbyMetric(MetricName.followed, { statistic: 'Maximum', label: 'time followed (ms)' }),
          lobbyMetric(MetricName.handoverWait, { statistic: 'Maximum', label: 'hand-over wait (ms)' }),
        ],
        right: [lobbyMetric(MetricName.emptyPolls, { label: 'empty polls' })],
        width: 12,
      }),
    );
    return dashboard;
  }
}
