import { type Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DeadLetterQueue } from './dead-letter-queue.js';

/** Properties of {@link ConsumerSchedule}. */
export interface ConsumerScheduleProps {
  /** The function to invoke. */
  readonly function: lambda.IFunction;
  /** Time between two invocations (whole minutes). */
  readonly rate: Duration;
  /**
   * Whether the schedule fires.
   *
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Retries of a failed `Invoke` call before the event goes to the dead-letter queue.
   *
   * @default 2
   */
  readonly retryAttempts?: number;
}

/**
 * An EventBridge Scheduler schedule that invokes the consumer asynchronously at a fixed rate,
 * with a dead-letter queue for ticks it could not deliver.
 *
 * The target is written here rather than taken from `aws-scheduler-targets.LambdaInvoke`,
 * whose role is granted `lambda:InvokeFunction` on `<function ARN>:*` (all versions and
 * aliases) as well; the schedule only ever invokes the unqualified function.
 */
export class ConsumerSchedule extends Construct {
  /** The schedule. */
  readonly schedule: scheduler.Schedule;
  /** Receives the ticks the scheduler failed to deliver. */
  readonly deadLetterQueue: sqs.Queue;
  /** The role EventBridge Scheduler assumes to invoke the function. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ConsumerScheduleProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.deadLetterQueue = new DeadLetterQueue(this, 'UndeliveredTicks', {
      holds: 'scheduler ticks that could not be delivered to the consumer function',
    }).queue;

    // Schedules in the default group of this account only, against the confused deputy.
    const defaultGroupArn = stack.formatArn({
      service: 'scheduler',
      resource: 'schedule-group',
      resourceName: 'default',
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': defaultGroupArn } },
      }),
      description: 'Lets EventBridge Scheduler invoke the start-flow consumer',
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeConsumer',
        actions: ['lambda:InvokeFunction'],
        resources: [props.function.functionArn],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DeadLetterUndeliveredTicks',
        actions: ['sqs:SendMessage'],
        resources: [this.deadLetterQueue.queueArn],
      }),
    );

    const target: scheduler.IScheduleTarget = {
      bind: () => ({
        arn: props.function.functionArn,
        role: this.role,
        deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
        retryPolicy: {
          maximumRetryAttempts: props.retryAttempts ?? 2,
          // A tick older than one period has been superseded by the next one.
          maximumEventAgeInSeconds: Math.max(60, props.rate.toSeconds()),
        },
        input: scheduler.ScheduleTargetInput.fromObject({
          source: 'galaxy.start-flow.schedule',
          scheduledTime: scheduler.ContextAttribute.scheduledTime,
          executionId: scheduler.ContextAttribute.executionId,
        }),
      }),
    };

    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      schedule: scheduler.ScheduleExpression.rate(props.rate),
      target,
      enabled: props.enabled ?? true,
      // Fire on the minute: the lag alarm and the function timeout assume a fixed period.
      timeWindow: scheduler.TimeWindow.off(),
      description: `Invokes the start-flow consumer every ${props.rate.toHumanString()}`,
    });
  }
}
