import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/** Properties of {@link DataTables}. */
export interface DataTablesProps {
  /**
   * Physical name of the offsets table.
   *
   * @default - CloudFormation generates a name
   */
  readonly offsetsTableName?: string;
  /**
   * What happens to the table when it leaves the stack; `DESTROY` also turns deletion
   * protection off.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The table the consumer owns: offsets (partition key `consumer`, one item per consumer
 * holding its stream offset and lease). The games table is Lobby's and is passed in.
 *
 * The offsets cannot be rebuilt from the stream (the stream is trimmed), so unless its
 * removal policy says otherwise the table is retained on stack deletion, protected against
 * deletion, and has point-in-time recovery.
 */
export class DataTables extends Construct {
  /** The offsets table. */
  readonly offsetsTable: dynamodb.Table;

  constructor(scope: Construct, id: string, props: DataTablesProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.offsetsTable = new dynamodb.Table(this, 'OffsetsTable', {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: removalPolicy !== RemovalPolicy.DESTROY,
      removalPolicy,
      ...(props.offsetsTableName === undefined ? {} : { tableName: props.offsetsTableName }),
      partitionKey: { name: 'consumer', type: dynamodb.AttributeType.STRING },
    });
  }
}
