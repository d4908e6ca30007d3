import { Annotations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ConsumerFunction } from './constructs/consumer-function.js';
import { ConsumerMonitoring } from './constructs/consumer-monitoring.js';
import type { ConsumerAlarms } from './constructs/consumer-monitoring.js';
import { ConsumerSchedule } from './constructs/consumer-schedule.js';
import { DataTables } from './constructs/data-tables.js';
import { ConsumerMetrics } from './metrics.js';
import type { StartFlowConsumerProps } from './props.js';
import { resolveSettings } from './settings.js';

/**
 * The start-flow consumer of the Galaxy platform: a Lambda function on an EventBridge
 * Scheduler schedule that reads Runtime Manager job results from a Redis stream over the
 * Upstash REST API and finishes the start flow of Lobby's games with conditional writes, with
 * its offsets table, dead-letter queues, alarms and dashboard.
 *
 * Lobby's games table, the token secrets, the VPC and the alarm topic are the team's own and
 * are passed in: the construct grants the function what it needs on them and never creates
 * them. Its props are checked in the constructor; a prop that cannot work throws a
 * `StartFlowConsumerPropError` that names it. The cdk-nag acknowledgements it needs sit on its
 * own resources, so a team that runs cdk-nag in its app sees them with their reasons.
 *
 * @example
 * new StartFlowConsumer(this, 'StartFlow', {
 *   gamesTable,
 *   upstash: { restUrl: 'https://eu1-example.upstash.io', token: upstashToken },
 *   gameMaster: { baseUrl: 'https://gm.internal.example.com', token: gameMasterToken },
 *   vpc,
 *   alarmTopic,
 *   stage: 'prod',
 * });
 */
export class StartFlowConsumer extends Construct {
  /** The consumer function. */
  readonly function: lambda.Function;
  /** Its execution role. */
  readonly role: iam.Role;
  /** Its log group. */
  readonly logGroup: logs.LogGroup;
  /** The offsets table: the stream position and the lease, one item per consumer. */
  readonly offsetsTable: dynamodb.Table;
  /** The schedule that invokes the function. */
  readonly schedule: scheduler.Schedule;
  /** Records of failed asynchronous invocations (the function's on-failure destination). */
  readonly failedInvocationsQueue: sqs.Queue;
  /** Ticks the scheduler could not deliver. */
  readonly undeliveredTicksQueue: sqs.Queue;
  /** The topic the alarms notify: `alarmTopic`, or the one the construct made. */
  readonly alarmTopic: sns.ITopic;
  /** The alarms, by purpose; each has a section in the runbook under its construct id. */
  readonly alarms: ConsumerAlarms;
  /** The dashboard, named `galaxy-start-flow-<stage>-<region>`. */
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: StartFlowConsumerProps) {
    super(scope, id);
    const settings = resolveSettings(props);
    for (const warning of settings.warnings) {
      Annotations.of(this).addWarningV2('@galaxy/start-flow:placeholder-url', warning);
    }

    // The construct ids below are those of the stack the construct came out of, so a stack
    // that places it with the id `Default` keeps its logical ids (see lib/start-flow-stack.ts).
    const tables = new DataTables(this, 'Tables', {
      ...(settings.offsetsTableName === undefined ? {} : { offsetsTableName: settings.offsetsTableName }),
      removalPolicy: settings.removalPolicy,
    });
    this.offsetsTable = tables.offsetsTable;

    const consumer = new ConsumerFunction(this, 'Consumer', {
      settings,
      gamesTable: props.gamesTable,
      offsetsTable: this.offsetsTable,
      upstashToken: props.upstash.token,
      ...(props.gameMaster.token === undefined ? {} : { gameMasterToken: props.gameMaster.token }),
      ...(props.vpc === undefined ? {} : { vpc: props.vpc }),
      ...(props.vpcSubnets === undefined ? {} : { vpcSubnets: props.vpcSubnets }),
      ...(props.securityGroups === undefined ? {} : { securityGroups: props.securityGroups }),
      ...(props.code === undefined ? {} : { code: props.code }),
    });
    this.function = consumer.function;
    this.role = consumer.role;
    this.logGroup = consumer.logGroup;
    this.failedInvocationsQueue = consumer.failureQueue;

    const schedule = new ConsumerSchedule(this, 'Schedule', {
      function: this.function,
      rate: settings.schedule,
      enabled: settings.scheduleEnabled,
    });
    this.schedule = schedule.schedule;
    this.undeliveredTicksQueue = schedule.deadLetterQueue;

    const monitoring = new ConsumerMonitoring(this, 'Monitoring', {
      settings,
      metrics: new ConsumerMetrics(settings.metricsNamespace, settings.stage),
      function: this.function,
      scheduleDeadLetterQueue: this.undeliveredTicksQueue,
      invocationFailureQueue: this.failedInvocationsQueue,
      ...(props.alarmTopic === undefined ? {} : { alarmTopic: props.alarmTopic }),
    });
    this.alarmTopic = monitoring.topic;
    this.alarms = monitoring.alarms;
    this.dashboard = monitoring.dashboard;
  }
}
