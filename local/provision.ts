import { CreateTableCommand, type DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DELIVERED_AT_INDEX } from '../lib/ledger/dynamodb-ledger';

export interface QueueSettings {
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
}

export interface Provisioned {
  readonly alertsQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly ledgerTableName: string;
}

/**
 * Creates, if missing, what serverless.yml creates in AWS: the alerts queue with a redrive
 * policy to its dead-letter queue, and the ledger table with its `delivered-at` index.
 * Works against the embedded emulators, LocalStack, moto or a sandbox account alike.
 */
export const provision = async (
  sqs: SQSClient,
  dynamodb: DynamoDBClient,
  prefix: string,
  settings: QueueSettings,
): Promise<Provisioned> => {
  const deadLetter = await sqs.send(
    new CreateQueueCommand({ QueueName: `${prefix}-dead-letter`, Attributes: { MessageRetentionPeriod: '1209600' } }),
  );
  const deadLetterQueueUrl = deadLetter.QueueUrl ?? '';
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }));
  const alerts = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${prefix}-alerts`,
      Attributes: {
        VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
        MessageRetentionPeriod: '1209600',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: settings.maxReceiveCount }),
      },
    }),
  );
  const ledgerTableName = `${prefix}-ledger`;
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: ledgerTableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'activity', AttributeType: 'S' },
          { AttributeName: 'deliveredAt', AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [
          {
            IndexName: DELIVERED_AT_INDEX,
            KeySchema: [
              { AttributeName: 'activity', KeyType: 'HASH' },
              { AttributeName: 'deliveredAt', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  return { alertsQueueUrl: alerts.QueueUrl ?? '', deadLetterQueueUrl, ledgerTableName };
};
