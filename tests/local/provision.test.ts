import { DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { QueueDoesNotExist, SQSClient } from '@aws-sdk/client-sqs';
import { provision } from '../../local/provision';
import { fakeAwsClient } from '../helpers/aws';

const url = (name: string): string => `http://127.0.0.1:1/000000000000/${name}`;
const settings = { visibilityTimeoutSeconds: 30, maxReceiveCount: 7 };
const existingTable = () =>
  fakeAwsClient(DynamoDBClient, () => {
    throw new ResourceInUseException({ message: 'Table already exists', $metadata: {} });
  });

it('creates missing queues with their settings and the redrive policy to the dead-letter queue', async () => {
  const sqs = fakeAwsClient(SQSClient, (name, input) => {
    if (name === 'GetQueueUrlCommand') throw new QueueDoesNotExist({ message: 'no such queue', $metadata: {} });
    if (name === 'CreateQueueCommand') return { QueueUrl: url(String(input.QueueName)) };
    return { Attributes: { QueueArn: 'arn:aws:sqs:us-east-1:000000000000:p-dead-letter' } };
  });
  expect(await provision(sqs.client, existingTable().client, 'p', settings)).toEqual({
    alertsQueueUrl: url('p-alerts'),
    deadLetterQueueUrl: url('p-dead-letter'),
    ledgerTableName: 'p-ledger',
  });
  expect(sqs.inputsOf('CreateQueueCommand')).toEqual([
    { QueueName: 'p-dead-letter', Attributes: { MessageRetentionPeriod: '1209600' } },
    {
      QueueName: 'p-alerts',
      Attributes: {
        VisibilityTimeout: '30',
        MessageRetentionPeriod: '1209600',
        RedrivePolicy: '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:p-dead-letter","maxReceiveCount":7}',
      },
    },
  ]);
  expect(sqs.inputsOf('SetQueueAttributesCommand')).toEqual([]);
});

it('applies changed settings to queues that exist (a persisted local queue), keeping them and their messages', async () => {
  const sqs = fakeAwsClient(SQSClient, (name, input) => {
    if (name === 'GetQueueUrlCommand') return { QueueUrl: url(String(input.QueueName)) };
    if (name === 'GetQueueAttributesCommand') return { Attributes: { QueueArn: 'arn:aws:sqs:us-east-1:000000000000:p-dead-letter' } };
    return {};
  });
  await provision(sqs.client, existingTable().client, 'p', settings);
  expect(sqs.inputsOf('CreateQueueCommand')).toEqual([]);
  expect(sqs.inputsOf('SetQueueAttributesCommand')).toEqual([
    { QueueUrl: url('p-dead-letter'), Attributes: { MessageRetentionPeriod: '1209600' } },
    {
      QueueUrl: url('p-alerts'),
      Attributes: {
        VisibilityTimeout: '30',
        MessageRetentionPeriod: '1209600',
        RedrivePolicy: '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:p-dead-letter","maxReceiveCount":7}',
      },
    },
  ]);
});
