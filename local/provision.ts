import { CreateTableCommand, type DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DELIVERED_AT_INDEX } from '../lib/ledger/ledger-table';

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
 * The queue's URL, with `attributes` applied: created if missing, else updated, as a
 * CloudFormation update would (a persisted local queue keeps its messages when
 * LOCAL_VISIBILITY_TIMEOUT_SECONDS or LOCAL_MAX_RECEIVE_COUNT changes between runs). Looked up
 * first because CreateQueue refuses an existing queue with other settings, and fauxqs names that
 * error differently from SQS.
 */
const ensureQueue = async (sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<string> => {
  try {
    const { QueueUrl = '' } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: attributes }));
    return QueueUrl;
  } catch (error) {
    if (!(error instanceof QueueDoesNotExist)) throw error;
  }
  return (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl ?? '';
};

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
  const deadLetterQueueUrl = await ensureQueue(sqs, `${prefix}-dead-letter`, { MessageRetentionPeriod: '1209600' });
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }));
  const alertsQueueUrl = await ensureQueue(sqs, `${prefix}-alerts`, {
    VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
    MessageRetentionPeriod: '1209600',
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: settings.maxReceiveCount }),
  });
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
  return { alertsQueueUrl, deadLetterQueueUrl, ledgerTableName };
};
