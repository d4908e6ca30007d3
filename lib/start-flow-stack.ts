import { Annotations, CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { StartFlowConfig } from './config.js';
import { ConsumerFunction } from './constructs/consumer-function.js';
import { ConsumerMonitoring } from './constructs/consumer-monitoring.js';
import { ConsumerSchedule } from './constructs/consumer-schedule.js';
import { ConsumerSecrets } from './constructs/consumer-secrets.js';
import { DataTables } from './constructs/data-tables.js';

/** Properties of {@link StartFlowStack}. */
export interface StartFlowStackProps extends StackProps {
  /** Validated configuration (see `readConfig`). */
  readonly config: StartFlowConfig;
  /**
   * Pre-built function code used instead of bundling the handler (tests).
   *
   * @default - the handler is bundled from source with local esbuild
   */
  readonly functionCode?: lambda.Code;
}

/**
 * The start-flow consumer: a scheduled Lambda that applies Runtime Manager job results from a
 * Redis stream to the Lobby games table, with its tables, secrets, queues, alarms and dashboard.
 */
export class StartFlowStack extends Stack {
  /** The tables. */
  readonly tables: DataTables;
  /** The token secrets. */
  readonly secrets: ConsumerSecrets;
  /** The consumer function and its own resources. */
  readonly consumer: ConsumerFunction;
  /** The schedule that drives the consumer. */
  readonly schedule: ConsumerSchedule;
  /** Alarms and dashboard. */
  readonly monitoring: ConsumerMonitoring;

  constructor(scope: Construct, id: string, props: StartFlowStackProps) {
    super(scope, id, props);
    const { config } = props;
    // What a throwaway stage does with stateful resources when the stack goes away.
    const statefulRemoval = config.throwaway ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const rate = Duration.minutes(config.scheduleRateMinutes);

    for (const warning of config.warnings) Annotations.of(this).addWarningV2('@galaxy/start-flow:config', warning);

    this.tables = new DataTables(this, 'Tables', {
      ...(config.gamesTableName === undefined ? {} : { gamesTableName: config.gamesTableName }),
      ...(config.offsetsTableName === undefined ? {} : { offsetsTableName: config.offsetsTableName }),
      throwaway: config.throwaway,
    });

    this.secrets = new ConsumerSecrets(this, 'Secrets', {
      stage: config.stage,
      ...(config.upstashTokenSecretName === undefined ? {} : { upstashTokenSecretName: config.upstashTokenSecretName }),
      gameMasterAuth: config.gameMasterAuth,
      ...(config.gameMasterTokenSecretName === undefined
        ? {}
        : { gameMasterTokenSecretName: config.gameMasterTokenSecretName }),
      removalPolicy: statefulRemoval,
    });

    this.consumer = new ConsumerFunction(this, 'Consumer', {
      timeout: Duration.seconds(config.functionTimeoutSeconds),
      reservedConcurrency: config.reservedConcurrency,
      memorySize: config.memorySizeMb,
      gamesTable: this.tables.gamesTable,
      offsetsTable: this.tables.offsetsTable,
      upstashToken: this.secrets.upstashToken,
      ...(this.secrets.gameMasterToken === undefined ? {} : { gameMasterToken: this.secrets.gameMasterToken }),
      upstashRedisRestUrl: config.upstashRedisRestUrl,
      gameMasterBaseUrl: config.gameMasterBaseUrl,
      streams: config.streams,
      tuning: config.tuning,
      logRetention: config.logRetention,
      logRemovalPolicy: statefulRemoval,
      maxEventAge: rate,
      ...(props.functionCode === undefined ? {} : { code: props.functionCode }),
    });

    this.schedule = new ConsumerSchedule(this, 'Schedule', {
      function: this.consumer.function,
      rate,
      enabled: config.scheduleEnabled,
    });

    this.monitoring = new ConsumerMonitoring(this, 'Monitoring', {
      stage: config.stage,
      function: this.consumer.function,
      scheduleRate: rate,
      scheduleDeadLetterQueue: this.schedule.deadLetterQueue,
      invocationFailureQueue: this.consumer.failureQueue,
      lagAgeThreshold: Duration.seconds(config.alarms.lagAgeSeconds),
      functionErrorsThreshold: config.alarms.functionErrors,
      deadLettersThreshold: config.alarms.deadLetters,
      keyRemovalPolicy: statefulRemoval,
    });

    this.outputs();
  }

  private outputs(): void {
    new CfnOutput(this, 'FunctionName', { value: this.consumer.function.functionName });
    new CfnOutput(this, 'GamesTableName', {
      value: this.tables.gamesTable.tableName,
      description: this.tables.gamesTableImported ? 'Imported (owned by Lobby)' : 'Created by this stack',
    });
    new CfnOutput(this, 'OffsetsTableName', { value: this.tables.offsetsTable.tableName });
    new CfnOutput(this, 'UpstashTokenSecretArn', {
      value: this.secrets.upstashToken.environmentArn,
      description: this.secrets.upstashToken.created ? 'Placeholder: put the Upstash REST token here' : 'Imported',
    });
    if (this.secrets.gameMasterToken !== undefined) {
      new CfnOutput(this, 'GameMasterTokenSecretArn', {
        value: this.secrets.gameMasterToken.environmentArn,
        description: this.secrets.gameMasterToken.created ? 'Placeholder: put the Game Master token here' : 'Imported',
      });
    }
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    new CfnOutput(this, 'FailedInvocationsQueueUrl', { value: this.consumer.failureQueue.queueUrl });
    new CfnOutput(this, 'UndeliveredTicksQueueUrl', { value: this.schedule.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });
  }
}
