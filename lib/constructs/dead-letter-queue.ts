import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Properties of {@link DeadLetterQueue}. */
export interface DeadLetterQueueProps {
  /**
   * What ends up in this queue, in a few words ("failed scheduled invocations"). Used in the
   * cdk-nag acknowledgements, so a reviewer can see why the queue has no redrive policy.
   */
  readonly holds: string;
  /**
   * How long a message is kept. Long enough to survive a weekend before someone looks.
   *
   * @default Duration.days(14) (the SQS maximum)
   */
  readonly retentionPeriod?: Duration;
  /**
   * What happens to the queue when it leaves the stack.
   *
   * @default RemovalPolicy.DESTROY (the queue holds diagnostics, not data)
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A terminal SQS queue that collects failures for a human to inspect: SQS-managed encryption
 * at rest, TLS enforced by the queue policy, two weeks of retention.
 *
 * It is a dead-letter queue itself, so giving it another dead-letter queue or a redrive policy
 * would only move the same messages one hop further; both cdk-nag findings about that are
 * acknowledged here, on this queue only.
 */
export class DeadLetterQueue extends Construct {
  /** The queue. */
  readonly queue: sqs.Queue;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id);

    this.queue = new sqs.Queue(this, 'Queue', {
      // SQS-managed keys keep senders (Lambda, EventBridge Scheduler) free of KMS grants.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.retentionPeriod ?? Duration.days(14),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });

    const reason =
      `Terminal dead-letter queue for ${props.holds}: nothing consumes it automatically, ` +
      'an operator inspects and replays its messages, and an alarm fires on the first message.';
    // On the CfnQueue itself, so the acknowledgement cannot cover the queue policy next to it.
    const cfnQueue = this.queue.node.defaultChild as sqs.CfnQueue;
    Validations.of(cfnQueue).acknowledge({ id: 'AwsSolutions-SQS3', reason });
    Validations.of(cfnQueue).acknowledge({ id: 'Serverless-SQSRedrivePolicy', reason });
  }
}
