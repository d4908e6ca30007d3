import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * An asynchronous-invocation destination that sends invocation records to an SQS queue and
 * grants the function `sqs:SendMessage` on that queue only.
 *
 * `aws-lambda-destinations.SqsDestination` uses `grantSendMessages`, which also grants
 * `sqs:GetQueueAttributes` and `sqs:GetQueueUrl`; Lambda needs neither to deliver a record.
 * The queue must not use a customer-managed KMS key (no KMS grant is made).
 */
export class SendOnlyQueueDestination implements lambda.IDestination {
  constructor(private readonly queue: sqs.IQueue) {}

  bind(_scope: Construct, fn: lambda.IFunction): lambda.DestinationConfig {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DeliverFailedInvocationRecords',
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
      }),
    );
    return { destination: this.queue.queueArn };
  }
}
