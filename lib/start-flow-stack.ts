import { CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { StartFlowConfig } from './stage-config.js';
import { StageSecrets } from './stage-secrets.js';
import { StartFlowConsumer } from './start-flow-consumer.js';

/** Properties of {@link StartFlowStack}. */
export interface StartFlowStackProps extends StackProps {
  /** The stage's configuration (see `readConfig`). */
  readonly config: StartFlowConfig;
  /**
   * Pre-built function code used instead of the bundled handler (tests).
   *
   * @default - the handler is bundled from source with local esbuild
   */
  readonly functionCode?: lambda.Code;
}

/**
 * The repository's own deployment of one stage: {@link StartFlowConsumer}, plus what a
 * platform's app would bring itself: the token secrets (imported, or created as
 * placeholders), Lobby's games table imported by name (or an empty demo table, only when the
 * stage asks for one), and the outputs an operator needs.
 */
export class StartFlowStack extends Stack {
  /** The consumer. */
  readonly consumer: StartFlowConsumer;
  /** The token secrets. */
  readonly secrets: StageSecrets;
  /** The games table: imported, or the demo stage's own. */
  readonly gamesTable: dynamodb.ITable;

  constructor(scope: Construct, id: string, props: StartFlowStackProps) {
    super(scope, id, props);
    const { config } = props;
    // What a throwaway stage does with stateful resources when the stack goes away.
    const removalPolicy = config.throwaway ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    this.gamesTable = this.games(config, removalPolicy);
    this.secrets = new StageSecrets(this, 'Secrets', {
      stage: config.stage,
      ...(config.upstashTokenSecret === undefined ? {} : { upstashToken: config.upstashTokenSecret }),
      gameMasterAuth: config.gameMasterAuth,
      ...(config.gameMasterTokenSecret === undefined ? {} : { gameMasterToken: config.gameMasterTokenSecret }),
      removalPolicy,
    });

    // The id `Default` is left out of logical ids by the CDK, and the construct's own ids are
    // those this stack had before it was built from the construct: a stage deployed then keeps
    // its offsets table, function, log group and alarm topic rather than getting new ones.
    this.consumer = new StartFlowConsumer(this, 'Default', {
      ...config.consumer,
      gamesTable: this.gamesTable,
      upstash: { restUrl: config.upstashRedisRestUrl, token: this.secrets.upstashToken.secret },
      gameMaster: {
        baseUrl: config.gameMasterBaseUrl,
        ...(this.secrets.gameMasterToken === undefined ? {} : { token: this.secrets.gameMasterToken.secret }),
        ...(config.gameMasterTimeout === undefined ? {} : { timeout: config.gameMasterTimeout }),
      },
      ...(config.alarmTopicArn === undefined
        ? {}
        : { alarmTopic: sns.Topic.fromTopicArn(this, 'AlarmTopic', config.alarmTopicArn) }),
      removalPolicy,
      ...(props.functionCode === undefined ? {} : { code: props.functionCode }),
    });

    this.outputs(config);
  }

  private games(config: StartFlowConfig, removalPolicy: RemovalPolicy): dynamodb.ITable {
    const { gamesTable } = config;
    // Under `Tables`, where the stack kept its games table before, so a stage deployed then keeps it.
    const scope = new Construct(this, 'Tables');
    if (gamesTable.kind === 'demo') {
      return new dynamodb.Table(scope, 'GamesTable', {
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: removalPolicy !== RemovalPolicy.DESTROY,
        removalPolicy,
        partitionKey: { name: 'gameId', type: dynamodb.AttributeType.STRING },
      });
    }
    // Lobby owns the table; the stack only needs its name, its ARN and its key for IAM.
    return dynamodb.Table.fromTableAttributes(scope, 'GamesTable', {
      tableName: gamesTable.name,
      ...(gamesTable.keyArn === undefined
        ? {}
        : { encryptionKey: kms.Key.fromKeyArn(scope, 'GamesTableKey', gamesTable.keyArn) }),
    });
  }

  private outputs(config: StartFlowConfig): void {
    const { consumer, secrets } = this;
    new CfnOutput(this, 'FunctionName', { value: consumer.function.functionName });
    new CfnOutput(this, 'GamesTableName', {
      value: this.gamesTable.tableName,
      description: config.gamesTable.kind === 'demo' ? 'Demo table created by this stack' : 'Imported (owned by Lobby)',
    });
    new CfnOutput(this, 'OffsetsTableName', { value: consumer.offsetsTable.tableName });
    new CfnOutput(this, 'UpstashTokenSecretArn', {
      value: secrets.upstashToken.secret.secretArn,
      description: secrets.upstashToken.created ? 'Placeholder: put the Upstash REST token here' : 'Imported',
    });
    if (secrets.gameMasterToken !== undefined) {
      new CfnOutput(this, 'GameMasterTokenSecretArn', {
        value: secrets.gameMasterToken.secret.secretArn,
        description: secrets.gameMasterToken.created ? 'Placeholder: put the Game Master token here' : 'Imported',
      });
    }
    new CfnOutput(this, 'AlarmTopicArn', { value: consumer.alarmTopic.topicArn });
    new CfnOutput(this, 'FailedInvocationsQueueUrl', { value: consumer.failedInvocationsQueue.queueUrl });
    new CfnOutput(this, 'UndeliveredTicksQueueUrl', { value: consumer.undeliveredTicksQueue.queueUrl });
    new CfnOutput(this, 'DashboardName', { value: consumer.dashboard.dashboardName });
  }
}
