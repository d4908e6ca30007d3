import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/** Properties of {@link DataTables}. */
export interface DataTablesProps {
  /**
   * Name of an existing games table (owned by Lobby) to use instead of creating one.
   *
   * @default - the stack creates the games table
   */
  readonly gamesTableName?: string;
  /**
   * Physical name of the offsets table.
   *
   * @default - CloudFormation generates a name
   */
  readonly offsetsTableName?: string;
  /**
   * Marks a throwaway stage: tables are deleted with the stack and lose deletion protection.
   *
   * @default false
   */
  readonly throwaway?: boolean;
}

/**
 * The two DynamoDB tables the consumer writes: games (partition key `gameId`) and offsets
 * (partition key `consumer`, one item per consumer holding its stream offset and lease).
 *
 * Both hold state that cannot be rebuilt from the stream (the stream is trimmed), so unless
 * the stage is a throwaway they are retained on stack deletion, protected against deletion,
 * and have point-in-time recovery.
 */
export class DataTables extends Construct {
  /** The games table, created here or imported by name. */
  readonly gamesTable: dynamodb.ITable;
  /** Whether {@link gamesTable} was imported (and so is not managed by this stack). */
  readonly gamesTableImported: boolean;
  /** The offsets table. */
  readonly offsetsTable: dynamodb.Table;

  constructor(scope: Construct, id: string, props: DataTablesProps = {}) {
    super(scope, id);
    const throwaway = props.throwaway ?? false;

    const dataTableProps = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: !throwaway,
      removalPolicy: throwaway ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    } satisfies Partial<dynamodb.TableProps>;

    if (props.gamesTableName === undefined) {
      this.gamesTable = new dynamodb.Table(this, 'GamesTable', {
        ...dataTableProps,
        partitionKey: { name: 'gameId', type: dynamodb.AttributeType.STRING },
      });
      this.gamesTableImported = false;
    } else {
      // Lobby owns the table in this case; the stack only needs its ARN for IAM.
      this.gamesTable = dynamodb.Table.fromTableName(this, 'GamesTable', props.gamesTableName);
      this.gamesTableImported = true;
    }

    this.offsetsTable = new dynamodb.Table(this, 'OffsetsTable', {
      ...dataTableProps,
      ...(props.offsetsTableName === undefined ? {} : { tableName: props.offsetsTableName }),
      partitionKey: { name: 'consumer', type: dynamodb.AttributeType.STRING },
    });
  }
}
