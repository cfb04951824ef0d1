import { SQSClient, SQSServiceException } from '@aws-sdk/client-sqs';
import { writeCredentialsFile } from '../../local/credentials-file';
import { run } from '../../scripts/redrive';
import { anAwsError, fakeAwsClient } from '../helpers/aws';
import { anAlert } from '../helpers/factories';
import { captureIo, regionOfTest } from './io';

const unusedFetch = (() => Promise.reject(new Error('no fetch expected'))) as unknown as typeof fetch;
const DLQ = 'threatstack-squadcast-relay-prod-dead-letter';
const ALERTS = 'threatstack-squadcast-relay-prod-alerts';
const url = (name: string): string => `https://sqs.us-east-1.amazonaws.com/123456789012/${name}`;
const arn = (name: string): string => `arn:aws:sqs:us-east-1:123456789012:${name}`;

const deliverFailure = JSON.stringify({
  alert: anAlert({ id: 'alert-refused', severity: 1 }),
  receivedAt: '2023-11-14T22:13:20.000Z',
  failure: { stage: 'deliver', reason: 'Squadcast answered 401', at: '2023-11-14T22:13:25.000Z', attempts: 1 },
});
const ingestReject = JSON.stringify({
  failure: {
    stage: 'ingest',
    reason: 'invalid alert',
    problems: ['alerts[1].severity: expected Severity(1|2|3)'],
    at: '2023-11-14T22:13:20.000Z',
  },
  raw: { id: 'bad', severity: 'SENTINEL-raw-value' },
});

/** An SQS account holding the two queues; the dead-letter queue holds `waiting` messages, `bodies` of which a peek returns. */
const fakeSqs = (waiting: number, bodies: string[] = []) =>
  fakeAwsClient(SQSClient, (name, input) => {
    switch (name) {
      case 'GetQueueUrlCommand':
        return { QueueUrl: url(String(input.QueueName)) };
      case 'GetQueueAttributesCommand': {
        const queue = String(input.QueueUrl).split('/').pop() ?? '';
        return {
          Attributes: {
            QueueArn: arn(queue),
            ApproximateNumberOfMessages: String(queue === DLQ ? waiting : 0),
            ApproximateNumberOfMessagesNotVisible: '0',
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn(DLQ), maxReceiveCount: 1000 }),
          },
        };
      }
      case 'ChangeMessageVisibilityBatchCommand':
        return { Successful: (input.Entries as Array<{ Id: string }>).map((e) => ({ Id: e.Id })) };
      case 'ReceiveMessageCommand':
        return { Messages: bodies.map((Body, i) => ({ MessageId: `m-${i}`, ReceiptHandle: `r-${i}`, Body })) };
      case 'StartMessageMoveTaskCommand':
        return { TaskHandle: 'task-handle-1' };
      case 'ListMessageMoveTasksCommand':
        return {
          Results: [
            {
              Status: 'RUNNING',
              StartedTimestamp: Date.parse('2023-11-14T22:20:00.000Z'),
              ApproximateNumberOfMessagesMoved: 3,
              ApproximateNumberOfMessagesToMove: 7,
            },
            {
              Status: 'FAILED',
              StartedTimestamp: Date.parse('2023-11-13T10:00:00.000Z'),
              ApproximateNumberOfMessagesMoved: 0,
              FailureReason: 'AccessDenied',
            },
          ],
        };
      default:
        throw new Error(`unexpected ${name}`);
    }
  });

describe('npm run redrive', () => {
  it('shows what is in the dead-letter queue, then with --yes moves it back with StartMessageMoveTask', async () => {
    const sqs = fakeSqs(2, [deliverFailure, ingestReject]);
    const { io, text } = captureIo();
    expect(await run(['--stage', 'prod', '--yes'], io, { sqs: () => sqs.client, fetch: unusedFetch, region: regionOfTest })).toBe(0);
    expect(sqs.inputsOf('GetQueueUrlCommand')).toEqual([{ QueueName: DLQ }, { QueueName: ALERTS }]);
    // The peek leaves the messages visible, for the move task to take: asked for, and made sure of.
    expect(sqs.inputsOf('ReceiveMessageCommand')).toEqual([
      expect.objectContaining({ QueueUrl: url(DLQ), MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
    ]);
    expect(sqs.inputsOf('ChangeMessageVisibilityBatchCommand')).toEqual([
      {
        QueueUrl: url(DLQ),
        Entries: [
          { Id: '0', ReceiptHandle: 'r-0', VisibilityTimeout: 0 },
          { Id: '1', ReceiptHandle: 'r-1', VisibilityTimeout: 0 },
        ],
      },
    ]);
    expect(sqs.inputsOf('StartMessageMoveTaskCommand')).toEqual([{ SourceArn: arn(DLQ), DestinationArn: arn(ALERTS) }]);
    const printed = text();
    expect(printed).toContain(`${DLQ} holds about 2 messages. They are:`);
    expect(printed).toMatch(
      / {2}- m-0 {2}alert alert-refused \(severity 1, "[^"]+"\): deliver: Squadcast answered 401 at 2023-11-14T22:13:25.000Z\n/,
    );
    expect(printed).toContain(
      '  - m-1  not an alert: ingest: invalid alert at 2023-11-14T22:13:20.000Z [alerts[1].severity: expected Severity(1|2|3)]: a redrive brings it straight back',
    );
    expect(printed).toContain('Move started (task task-handle-1). Follow it with: npm run redrive -- --stage prod --status');
    expect(printed).not.toContain('SENTINEL');
  });

  it('moves nothing without a yes: no terminal means exit 1, a "n" means nothing moved', async () => {
    const noTerminal = fakeSqs(1, [deliverFailure]);
    const first = captureIo();
    expect(await run(['--stage', 'prod'], first.io, { sqs: () => noTerminal.client, fetch: unusedFetch, region: regionOfTest })).toBe(1);
    expect(first.errors()).toContain('Nothing moved. Run again with --yes to start the move.');
    expect(noTerminal.inputsOf('StartMessageMoveTaskCommand')).toEqual([]);

    const declined = fakeSqs(1, [deliverFailure]);
    const second = captureIo(['n']);
    expect(await run(['--stage', 'prod'], second.io, { sqs: () => declined.client, fetch: unusedFetch, region: regionOfTest })).toBe(0);
    expect(second.questions).toEqual([`Move about 1 message from ${DLQ} to ${ALERTS}? [y/N] `]);
    expect(declined.inputsOf('StartMessageMoveTaskCommand')).toEqual([]);
  });

  it('moves after a "y", at the --rate asked for', async () => {
    const sqs = fakeSqs(120, [deliverFailure]);
    const { io, text } = captureIo(['y']);
    expect(await run(['--stage', 'prod', '--rate', '5'], io, { sqs: () => sqs.client, fetch: unusedFetch, region: regionOfTest })).toBe(0);
    expect(text()).toContain('A sample of 1:');
    expect(text()).toContain('at 5 a second');
    expect(sqs.inputsOf('StartMessageMoveTaskCommand')).toEqual([
      { SourceArn: arn(DLQ), DestinationArn: arn(ALERTS), MaxNumberOfMessagesPerSecond: 5 },
    ]);
  });

  it('an empty dead-letter queue: nothing to move, nothing asked', async () => {
    const sqs = fakeSqs(0);
    const { io, text, questions } = captureIo(['y']);
    expect(await run(['--stage', 'prod'], io, { sqs: () => sqs.client, fetch: unusedFetch, region: regionOfTest })).toBe(0);
    expect(text()).toBe(`${DLQ} is empty: nothing to move.`);
    expect(questions).toEqual([]);
    expect(sqs.commands().map((c) => c.name)).toEqual(['GetQueueUrlCommand', 'GetQueueAttributesCommand']);
  });

  it('--status lists the recent move tasks of the dead-letter queue', async () => {
    const sqs = fakeSqs(0);
    const { io, out } = captureIo();
    expect(await run(['--stage', 'prod', '--status'], io, { sqs: () => sqs.client, fetch: unusedFetch, region: regionOfTest })).toBe(0);
    expect(sqs.inputsOf('ListMessageMoveTasksCommand')).toEqual([{ SourceArn: arn(DLQ), MaxResults: 5 }]);
    expect(out).toEqual([
      'RUNNING started 2023-11-14T22:20:00.000Z: 3 of 7 moved',
      'FAILED started 2023-11-13T10:00:00.000Z: 0 of ? moved (failure: AccessDenied)',
    ]);
  });

  it('names a stage that is not deployed', async () => {
    const sqs = fakeAwsClient(SQSClient, () => {
      throw anAwsError('QueueDoesNotExist');
    });
    await expect(
      run(['--stage', 'nope'], captureIo().io, { sqs: () => sqs.client, fetch: unusedFetch, region: regionOfTest }),
    ).rejects.toThrow('queue threatstack-squadcast-relay-nope-dead-letter not found: is the stage deployed in this account and region?');
  });
});

describe('npm run redrive -- --local (an endpoint without message move tasks)', () => {
  const ENDPOINT = 'http://127.0.0.1:40001';
  const local = {
    sqsEndpoint: ENDPOINT,
    region: 'us-east-1',
    embedded: true,
    alertsQueueUrl: `${ENDPOINT}/000000000000/relay-local-alerts`,
    deadLetterQueueUrl: `${ENDPOINT}/000000000000/relay-local-dead-letter`,
    credentialsFile: '',
  };
  const CREDENTIALS = { accessKeyId: 'LOCAL0A1B2C3D4E5F6', secretAccessKey: 'per-start-secret' };
  // The relay writes its per-start credentials to a 0600 file; GET /local/queues names the file only.
  let written: ReturnType<typeof writeCredentialsFile>;
  beforeAll(() => {
    written = writeCredentialsFile(CREDENTIALS);
    local.credentialsFile = written.path;
  });
  afterAll(() => written.remove());
  const localFetch = (async (url: string) => {
    expect(url).toBe('http://127.0.0.1:4321/local/queues');
    return new Response(JSON.stringify(local), { status: 200 });
  }) as unknown as typeof fetch;

  /** A dead-letter queue holding `bodies`, an alerts queue, and an endpoint that answers StartMessageMoveTask with InvalidAction. */
  const emulator = (bodies: string[], options: { refuseSend?: (body: string) => boolean; comesBack?: boolean } = {}) => {
    const deadLetter = bodies.map((Body, i) => ({ MessageId: `m-${i}`, ReceiptHandle: `r-${i}`, Body, hidden: false }));
    const alerts: string[] = [];
    const sqs = fakeAwsClient(SQSClient, (name, input) => {
      switch (name) {
        case 'GetQueueAttributesCommand': {
          const queue = String(input.QueueUrl).split('/').pop() ?? '';
          return {
            Attributes: {
              QueueArn: `arn:aws:sqs:us-east-1:000000000000:${queue}`,
              ApproximateNumberOfMessages: String(queue.endsWith('dead-letter') ? deadLetter.filter((m) => !m.hidden).length : 0),
              ApproximateNumberOfMessagesNotVisible: '0',
            },
          };
        }
        case 'ChangeMessageVisibilityBatchCommand': {
          const entries = input.Entries as Array<{ Id: string; ReceiptHandle: string }>;
          for (const m of deadLetter) if (entries.some((e) => e.ReceiptHandle === m.ReceiptHandle)) m.hidden = false;
          return { Successful: entries.map((e) => ({ Id: e.Id })) };
        }
        case 'ReceiveMessageCommand': {
          const visible = deadLetter.filter((m) => !m.hidden).slice(0, Number(input.MaxNumberOfMessages));
          // Like the local emulator: a receive hides what it returns, whatever VisibilityTimeout says.
          for (const m of visible) m.hidden = true;
          return { Messages: visible.map(({ MessageId, ReceiptHandle, Body }) => ({ MessageId, ReceiptHandle, Body })) };
        }
        case 'SendMessageBatchCommand': {
          const entries = input.Entries as Array<{ Id: string; MessageBody: string }>;
          const refused = entries.filter((entry) => options.refuseSend?.(entry.MessageBody));
          const sent = entries.filter((entry) => !refused.includes(entry));
          alerts.push(...sent.map((entry) => entry.MessageBody));
          // An invalid alert goes straight back to the dead-letter queue, as deliver would put it.
          if (options.comesBack)
            for (const entry of sent)
              deadLetter.push({
                MessageId: `again-${entry.Id}`,
                ReceiptHandle: `again-${deadLetter.length}`,
                Body: entry.MessageBody,
                hidden: false,
              });
          return {
            Successful: sent.map((entry) => ({ Id: entry.Id })),
            Failed: refused.map((entry) => ({ Id: entry.Id, SenderFault: true, Code: 'InvalidParameterValue' })),
          };
        }
        case 'DeleteMessageBatchCommand': {
          const handles = (input.Entries as Array<{ ReceiptHandle: string }>).map((entry) => entry.ReceiptHandle);
          deadLetter.splice(0, deadLetter.length, ...deadLetter.filter((m) => !handles.includes(m.ReceiptHandle)));
          return { Successful: [] };
        }
        case 'StartMessageMoveTaskCommand':
        case 'ListMessageMoveTasksCommand':
          // What the SDK throws for an error code its model does not know (fauxqs: "Unknown action").
          throw new SQSServiceException({
            name: 'InvalidAction',
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
            message: 'Unknown action',
          });
        default:
          throw new Error(`unexpected ${name}`);
      }
    });
    return { sqs, deadLetter, alerts };
  };

  it('finds the queues through the local stack, tries the move task, then moves every message by hand', async () => {
    const bodies = Array.from({ length: 13 }, (_, i) =>
      JSON.stringify({ alert: anAlert({ id: `dead-${i}` }), failure: { stage: 'deliver', reason: 'Squadcast answered 401', at: 'x' } }),
    );
    const { sqs, deadLetter, alerts } = emulator(bodies);
    const configs: unknown[] = [];
    const { io, text } = captureIo();
    const code = await run(['--local', '--port', '4321', '--yes'], io, {
      sqs: (config) => {
        configs.push(config);
        return sqs.client;
      },
      fetch: localFetch,
      region: regionOfTest,
    });
    expect(code).toBe(0);
    // The embedded emulators take the relay's per-start credentials, read from the file GET /local/queues names.
    expect(configs).toEqual([{ endpoint: ENDPOINT, region: 'us-east-1', credentials: CREDENTIALS }]);
    expect(sqs.inputsOf('StartMessageMoveTaskCommand')).toHaveLength(1);
    expect(deadLetter).toEqual([]);
    expect(alerts).toEqual(bodies);
    // Deleted only after the send, a batch at a time.
    expect(
      sqs
        .commands()
        .map((c) => c.name)
        .slice(-6),
    ).toEqual([
      'ReceiveMessageCommand',
      'SendMessageBatchCommand',
      'DeleteMessageBatchCommand',
      'ReceiveMessageCommand',
      'SendMessageBatchCommand',
      'DeleteMessageBatchCommand',
    ]);
    expect(text()).toContain('relay-local-dead-letter holds about 13 messages. A sample of 10:');
    expect(text()).toContain('This SQS endpoint has no message move task (StartMessageMoveTask): moving them here, a batch at a time.');
    expect(text()).toContain('Moved 13 messages from relay-local-dead-letter to relay-local-alerts.');
  });

  it('a message the alerts queue refuses stays in the dead-letter queue (exit 1); one that comes straight back is moved once', async () => {
    const refused = emulator([deliverFailure, ingestReject], { refuseSend: (body) => body === ingestReject });
    const first = captureIo();
    expect(
      await run(['--local', '--port', '4321', '--yes'], first.io, {
        sqs: () => refused.sqs.client,
        fetch: localFetch,
        region: regionOfTest,
      }),
    ).toBe(1);
    expect(first.text()).toContain('Moved 1 message from relay-local-dead-letter to relay-local-alerts. 1 could not be sent and stay in');
    expect(refused.deadLetter.map((m) => m.Body)).toEqual([ingestReject]);

    const bouncing = emulator([ingestReject], { comesBack: true });
    const second = captureIo();
    expect(
      await run(['--local', '--port', '4321', '--yes'], second.io, {
        sqs: () => bouncing.sqs.client,
        fetch: localFetch,
        region: regionOfTest,
      }),
    ).toBe(0);
    expect(bouncing.alerts).toEqual([ingestReject]);
    expect(bouncing.deadLetter.map((m) => m.Body)).toEqual([ingestReject]);
  });

  it('--rate paces the move by hand', async () => {
    const { sqs } = emulator(Array.from({ length: 7 }, () => deliverFailure));
    const { io, sleeps } = captureIo();
    expect(
      await run(['--local', '--port', '4321', '--yes', '--rate', '3'], io, {
        sqs: () => sqs.client,
        fetch: localFetch,
        region: regionOfTest,
      }),
    ).toBe(0);
    expect(
      sqs
        .inputsOf<{ MaxNumberOfMessages: number; VisibilityTimeout: number }>('ReceiveMessageCommand')
        .slice(1)
        .map((r) => r.MaxNumberOfMessages),
    ).toEqual([3, 3, 1]);
    expect(sleeps).toEqual([1000, 1000, 1000 / 3]);
  });

  it('--status says there are no move tasks; a stopped relay is named', async () => {
    const { sqs } = emulator([]);
    const { io, text } = captureIo();
    expect(
      await run(['--local', '--port', '4321', '--status'], io, { sqs: () => sqs.client, fetch: localFetch, region: regionOfTest }),
    ).toBe(0);
    expect(text()).toBe(
      'This SQS endpoint has no message move tasks: npm run redrive moves the messages itself there, and is done when it returns.',
    );
    const unreachable = (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch;
    await expect(
      run(['--local', '--port', '4321'], captureIo().io, { sqs: () => sqs.client, fetch: unreachable, region: regionOfTest }),
    ).rejects.toThrow('could not reach the local relay on 127.0.0.1:4321: is npm start running?');
  });

  it('another error of StartMessageMoveTask is not taken for a missing move task', async () => {
    const { sqs } = emulator([deliverFailure]);
    const denied = fakeAwsClient(SQSClient, (name, input) => {
      if (name === 'StartMessageMoveTaskCommand') throw anAwsError('AccessDenied', { $fault: 'client' });
      return sqs.client.send({ constructor: { name }, input } as never);
    });
    await expect(
      run(['--local', '--port', '4321', '--yes'], captureIo().io, { sqs: () => denied.client, fetch: localFetch, region: regionOfTest }),
    ).rejects.toThrow('AccessDenied');
    expect(denied.inputsOf('SendMessageBatchCommand')).toEqual([]);
  });
});
