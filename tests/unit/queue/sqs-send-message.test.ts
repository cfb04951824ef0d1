import { SQSClient } from '@aws-sdk/client-sqs';
import { createSqsSingleSender, queueNameOf } from '../../../lib/queue/sqs-send-message';
import { fakeAwsClient } from '../../helpers/aws';

const URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/relay-prod-alerts';

describe('createSqsSingleSender', () => {
  it('sends one SendMessage with the body as given, and returns its message id', async () => {
    const sqs = fakeAwsClient(SQSClient, () => ({ MessageId: 'm-1' }));
    expect(await createSqsSingleSender(sqs.client, URL).send({ key: 'a-1', body: '{"alert":{}}' })).toEqual({ messageId: 'm-1' });
    expect(sqs.inputsOf('SendMessageCommand')).toEqual([{ QueueUrl: URL, MessageBody: '{"alert":{}}' }]);
  });

  it('answers an empty id when SQS gives none, and lets a failure throw', async () => {
    expect(await createSqsSingleSender(fakeAwsClient(SQSClient, () => ({})).client, URL).send({ key: 'k', body: 'b' })).toEqual({
      messageId: '',
    });
    const failing = fakeAwsClient(SQSClient, () => {
      throw Object.assign(new Error('down'), { name: 'ServiceUnavailable' });
    });
    await expect(createSqsSingleSender(failing.client, URL).send({ key: 'k', body: 'b' })).rejects.toThrow('down');
  });
});

describe('queueNameOf', () => {
  it.each([
    [URL, 'relay-prod-alerts'],
    [`${URL}/`, 'relay-prod-alerts'],
    ['http://127.0.0.1:4566/000000000000/local-alerts', 'local-alerts'],
    ['', ''],
  ])('%j → %j', (url, name) => {
    expect(queueNameOf(url)).toBe(name);
  });
});
