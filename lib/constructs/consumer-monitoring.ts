import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MetricName } from '../metrics.js';
import type { ConsumerMetrics } from '../metrics.js';
import type { ConsumerSettings } from '../settings.js';
import { consumerDashboard } from './consumer-dashboard.js';

/**
 * Damping of the alarms on failures that the next tick usually clears by itself (an error, a
 * throttle, a failed or undelivered invocation): they fire when 3 of the last 5 schedule
 * periods had one, so a one-off (a rotated token, a cold start that timed out) pages nobody
 * and a failure that persists pages within three periods.
 */
const DAMPED = { evaluationPeriods: 5, datapointsToAlarm: 3 } as const;

/** The alarms, by purpose. */
export interface ConsumerAlarms {
  readonly functionErrors: cloudwatch.Alarm;
  readonly throttles: cloudwatch.Alarm;
  readonly lagAge: cloudwatch.Alarm;
  readonly deadLetters: cloudwatch.Alarm;
  readonly gameMasterOutage: cloudwatch.Alarm;
  readonly offsetAheadOfStream: cloudwatch.Alarm;
  readonly publishAbandoned: cloudwatch.Alarm;
  readonly entriesTrimmed: cloudwatch.Alarm;
  readonly undeliveredTicks: cloudwatch.Alarm;
  readonly failedInvocations: cloudwatch.Alarm;
}

/** Properties of {@link ConsumerMonitoring}. */
export interface ConsumerMonitoringProps {
  /** The checked settings: stage, schedule, thresholds. */
  readonly settings: ConsumerSettings;
  /** The consumer's metrics (its namespace and stage). */
  readonly metrics: ConsumerMetrics;
  /** The consumer function. */
  readonly function: lambda.IFunction;
  /** Queue of scheduler ticks that were not delivered. */
  readonly scheduleDeadLetterQueue: sqs.IQueue;
  /** Queue of failed asynchronous invocations. */
  readonly invocationFailureQueue: sqs.IQueue;
  /**
   * Topic every alarm notifies.
   *
   * @default - a topic encrypted with a key of its own
   */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * Alarms to an SNS topic, and a dashboard of the start flow. Alarm and dashboard names carry
 * the stage and the region (dashboards are global to an account), and every metric is read
 * with the consumer's own `service` and `stage` dimensions, so two stages or two regions in
 * one account never share an alarm.
 *
 * A topic made here uses a customer-managed key because CloudWatch alarms cannot publish to a
 * topic encrypted with the AWS-managed `alias/aws/sns` key (its policy cannot be extended to
 * the CloudWatch service). Nobody is subscribed here: operators subscribe their own endpoints.
 */
export class ConsumerMonitoring extends Construct {
  /** Topic every alarm notifies, on ALARM and on OK: the one given, or the one made here. */
  readonly topic: sns.ITopic;
  /** The alarms, by purpose. */
  readonly alarms: ConsumerAlarms;
  /** The dashboard. */
  readonly dashboard: cloudwatch.Dashboard;

  private readonly namePrefix: string;

  constructor(scope: Construct, id: string, props: ConsumerMonitoringProps) {
    super(scope, id);
    const { settings, metrics } = props;
    const { stage } = settings;
    this.namePrefix = ['galaxy-start-flow', ...(stage === undefined ? [] : [stage]), Stack.of(this).region].join('-');

    this.topic = props.alarmTopic ?? this.createTopic(settings);
    const period = settings.schedule;
    const lagThreshold = Duration.seconds(settings.alarms.lagAgeSeconds);

    const functionErrors = this.alarm('FunctionErrors', {
      alarmDescription:
        'The start-flow consumer failed (an exception, a timeout or a crash) in 3 of the last 5 schedule periods. ' +
        'See its log group.',
      metric: props.function.metricErrors({ period, statistic: 'Sum' }),
      threshold: settings.alarms.functionErrors,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      ...DAMPED,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const throttles = this.alarm('Throttles', {
      alarmDescription:
        'Invocations of the start-flow consumer were throttled in 3 of the last 5 schedule periods: its reserved ' +
        'concurrency was taken (an invocation from elsewhere, or a hand-over that overlapped a third one).',
      metric: props.function.metricThrottles({ period, statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      ...DAMPED,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const lagAge = this.alarm('LagAge', {
      alarmDescription:
        `The oldest unfinished job result is older than ${lagThreshold.toHumanString()}` +
        (settings.scheduleEnabled
          ? ', or the consumer stopped reporting lag (it emits the metric on every invocation, so silence means it is not running).'
          : '. The schedule is disabled, so silence is expected.'),
      metric: metrics.metric(MetricName.consumerLagAge, { statistic: 'Maximum', period }),
      threshold: lagThreshold.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // Two of three periods: one late or missing datapoint is not an incident, two are.
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      // Silence means the consumer is not running, unless its schedule was disabled on purpose.
      treatMissingData: settings.scheduleEnabled
        ? cloudwatch.TreatMissingData.BREACHING
        : cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const deadLetters = this.anyInFiveMinutes(
      props.metrics,
      'DeadLetters',
      MetricName.deadLetters,
      'Job results were moved to the dead-letter stream. Inspect and replay them.',
      settings.alarms.deadLetters,
    );

    const gameMasterOutage = this.gameMasterOutage(props);

    // The results stream was recreated (or the offset set by hand past its end): new results
    // would be skipped until an operator moves the offset (docs/runbook.md).
    const offsetAheadOfStream = this.anyInFiveMinutes(
      props.metrics,
      'OffsetAheadOfStream',
      MetricName.offsetAhead,
      'The consumer offset is past the last id of the results stream, so new results are not read. ' +
        'Check the stream and move the offset with `npm run ops -- offset set`.',
      1,
    );

    // Messages given up after MAX_ATTEMPTS tries are only in the error log (an intent also in
    // its game's outbox): someone must resend them (docs/runbook.md, `npm run ops -- replay`).
    const publishAbandoned = this.anyInFiveMinutes(
      props.metrics,
      'PublishAbandoned',
      MetricName.publishAbandoned,
      'The messages of a job result (a notification intent, a dead letter) could not be published after ' +
        'MAX_ATTEMPTS tries and were written to the error log instead. Resend them with `npm run ops -- replay`.',
      1,
    );

    // Results were trimmed from the stream (MAXLEN, XTRIM) before the consumer read them:
    // they are gone, and the games they were for may be stuck in `starting`.
    const entriesTrimmed = this.anyInFiveMinutes(
      props.metrics,
      'EntriesTrimmed',
      MetricName.entriesTrimmed,
      'Job results after the consumer offset were trimmed from the results stream before they were read. ' +
        'Find the games they were for (docs/runbook.md, "Entries trimmed before they were read").',
      1,
    );

    const undeliveredTicks = this.newMessages(
      'UndeliveredTicks',
      props.scheduleDeadLetterQueue,
      period,
      'EventBridge Scheduler could not invoke the start-flow consumer in 3 of the last 5 schedule periods; ' +
        'the ticks are in the schedule dead-letter queue.',
    );
    const failedInvocations = this.newMessages(
      'FailedInvocations',
      props.invocationFailureQueue,
      period,
      'Asynchronous invocations of the start-flow consumer failed or expired in 3 of the last 5 schedule periods; ' +
        'their records are in the failed-invocations queue.',
    );

    this.alarms = {
      functionErrors,
      throttles,
      lagAge,
      deadLetters,
      gameMasterOutage,
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

    this.dashboard = consumerDashboard(this, 'Dashboard', {
      name: this.namePrefix,
      metrics,
      function: props.function,
      scheduleDeadLetterQueue: props.scheduleDeadLetterQueue,
      invocationFailureQueue: props.invocationFailureQueue,
      alarms: Object.values(this.alarms),
      lagThreshold,
    });
  }

  private createTopic(settings: ConsumerSettings): sns.Topic {
    const key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the start-flow consumer alarm topic',
      enableKeyRotation: true,
      removalPolicy: settings.removalPolicy,
    });
    // CloudWatch publishes alarm notifications as itself, so the key must let it encrypt;
    // limited to alarms of this account.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    return new sns.Topic(this, 'AlarmTopic', {
      displayName: `Galaxy start flow${settings.stage === undefined ? '' : ` (${settings.stage})`} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
  }

  /** An alarm named `<prefix>-<id>`, so that its name says the stage and the region. */
  private alarm(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    return new cloudwatch.Alarm(this, id, { ...props, alarmName: `${this.namePrefix}-${id}` });
  }

  /** Fires when `metric` reaches `threshold` within one five-minute period: each one needs a look. */
  private anyInFiveMinutes(
    metrics: ConsumerMetrics,
    id: string,
    metric: string,
    description: string,
    threshold: number,
  ): cloudwatch.Alarm {
    return this.alarm(id, {
      alarmDescription: description,
      metric: metrics.metric(metric, { period: Duration.minutes(5) }),
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /**
   * Fires on messages newly sent to `queue` (damped), not on the ones waiting in it: it
   * clears by itself once the failures stop, whether or not someone purged the queue.
   */
  private newMessages(id: string, queue: sqs.IQueue, period: Duration, description: string): cloudwatch.Alarm {
    return this.alarm(id, {
      alarmDescription: description,
      metric: queue.metricNumberOfMessagesSent({ period, statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      ...DAMPED,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /**
   * A Game Master outage pauses every game whose container came up (its registration fails),
   * so paused games outnumber running ones. Both conditions: a handful of paused games among
   * many running ones is Game Master refusing single games, not an outage; one paused game
   * in a quiet period is not a rise.
   */
  private gameMasterOutage(props: ConsumerMonitoringProps): cloudwatch.Alarm {
    const { metrics, settings } = props;
    const outcome = (value: string) =>
      metrics.metric(MetricName.startFlowOutcomes, { dimensions: { outcome: value }, period: Duration.minutes(5) });
    const minimum = settings.alarms.pausedGames;
    return this.alarm('GameMasterOutage', {
      alarmDescription:
        `At least ${minimum} games were paused in 5 minutes, no fewer than reached running: Game Master ` +
        'registrations are failing (docs/runbook.md, "Game Master outage").',
      metric: new cloudwatch.MathExpression({
        expression: `IF(FILL(paused, 0) >= ${minimum} AND FILL(paused, 0) >= FILL(running, 0), 1, 0)`,
        usingMetrics: { paused: outcome('paused'), running: outcome('running') },
        label: 'Game Master registrations failing',
        period: Duration.minutes(5),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
