import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { describeDeadLetter } from '../../scripts/dead-letter-describe';
import type { DeadLettersDeps, OperationsLog } from '../../scripts/dead-letters';
import { run } from '../../scripts/dead-letters';
import { fakeAwsClient } from '../helpers/aws';
import { anAlert, aRelayStatus } from '../helpers/factories';
import { captureIo, regionOfTest } from './io';

const unusedFetch = (() => Promise.reject(new Error('no fetch expected'))) as unknown as typeof fetch;
const DLQ = 'threatstack-squadcast-relay-prod-dead-letter';
const url = (name: string): string => `https://sqs.us-east-1.amazonaws.com/123456789012/${name}`;

const refused = (id: string): string =>
  JSON.stringify({
    alert: anAlert({ id, severity: 1, title: `Host: \u001b[31mred\u001b[0m ${id}` }),
    alertId: id,
    receivedAt: '2023-11-14T22:13:20.000Z',
    failure: { stage: 'deliver', reason: 'Squadcast answered 401', at: '2023-11-14T22:13:25.000Z', attempts: 3 },
    earlierFailures: [{ stage: 'deliver', reason: 'Squadcast answered 403', at: '2023-11-13T08:00:00.000Z' }],
  });
const notAnAlert = JSON.stringify({
  failure: { stage: 'ingest', reason: 'invalid alert', problems: ['alerts[1]: expected object'], at: '2023-11-14T22:13:20.000Z' },
  raw: ['SENTINEL-raw-value'],
  redrives: 2,
});

/**
 * A dead-letter queue as SQS keeps it: a receive returns up to 10 of the visible messages and hides
 * them; a visibility change of 0 shows them again; a delete removes one by its receipt handle.
 */
const fakeQueue = (bodies: string[]) => {
  const messages = bodies.map((Body, i) => ({ MessageId: `m-${i}`, Body, hidden: false, receipt: 0 }));
  const fake = fakeAwsClient(SQSClient, (name, input) => {
    switch (name) {
      case 'GetQueueUrlCommand':
        return { QueueUrl: url(String(input.QueueName)) };
      case 'GetQueueAttributesCommand':
        return { Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: 'arn', maxReceiveCount: 1000 }) } };
      case 'ReceiveMessageCommand': {
        const batch = messages.filter((m) => !m.hidden).slice(0, Number(input.MaxNumberOfMessages));
        return {
          Messages: batch.map((m) => {
            m.hidden = true;
            m.receipt += 1;
            return { MessageId: m.MessageId, ReceiptHandle: `${m.MessageId}/${m.receipt}`, Body: m.Body };
          }),
        };
      }
      case 'ChangeMessageVisibilityBatchCommand': {
        const entries = input.Entries as Array<{ Id: string; ReceiptHandle: string; VisibilityTimeout: number }>;
        for (const entry of entries) {
          const message = messages.find((m) => `${m.MessageId}/${m.receipt}` === entry.ReceiptHandle);
          if (message !== undefined && entry.VisibilityTimeout === 0) message.hidden = false;
        }
        return { Successful: entries.map(({ Id }) => ({ Id })) };
      }
      case 'DeleteMessageCommand': {
        const index = messages.findIndex((m) => `${m.MessageId}/${m.receipt}` === input.ReceiptHandle);
        if (index >= 0) messages.splice(index, 1);
        return {};
      }
      default:
        throw new Error(`unexpected ${name}`);
    }
  });
  return {
    ...fake,
    remaining: () => messages.map((m) => ({ id: m.MessageId, hidden: m.hidden })),
    /** Someone else removes a message (a redrive moved it). */
    drop: (id: string) =>
      messages.splice(
        messages.findIndex((m) => m.MessageId === id),
        1,
      ),
  };
};

const recording = () => {
  const records: Array<Record<string, unknown>> = [];
  const log: OperationsLog = {
    record: async (entry) => {
      records.push(entry);
      return '/threatstack-squadcast-relay/prod/operations (stream dead-letters-2023-11-14)';
    },
  };
  return { records, log };
};

/** The status function: what the ledger kept of each alert id asked about (`lastFailures`), else no record. */
const statusFunction = (lastFailures: Readonly<Record<string, string>> = {}) =>
  fakeAwsClient(LambdaClient, (_name, input) => {
    const { alertId } = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString()) as { alertId: string };
    const lastFailure = lastFailures[alertId];
    const alert = lastFailure === undefined ? { id: alertId, state: 'not-recorded' } : { id: alertId, state: 'failed', lastFailure };
    return { StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify({ ...aRelayStatus(), alert })) };
  });

const depsFor = (sqs: SQSClient, log: OperationsLog = recording().log, status = statusFunction()): DeadLettersDeps => ({
  sqs: () => sqs,
  lambda: () => status.client,
  fetch: unusedFetch,
  region: regionOfTest,
  operationsLog: () => log,
  who: () => 'alice',
});

describe('npm run dead-letters', () => {
  it('lists every dead letter with why it is there, when, and how often it was tried; nothing stays hidden', async () => {
    const queue = fakeQueue([...Array.from({ length: 12 }, (_, i) => refused(`alert-${i}`)), notAnAlert]);
    const { io, text, errors } = captureIo();
    expect(await run(['--stage', 'prod'], io, depsFor(queue.client))).toBe(0);
    expect(errors()).toContain('region us-east-1 (serverless.yml params, where stage prod is deployed)');
    expect(text()).toContain(`${DLQ}: 13 dead letters.`);
    // Two batches of receives, then one empty long poll that says nothing visible is left.
    expect(queue.inputsOf('ReceiveMessageCommand').map((input) => [input.MaxNumberOfMessages, input.WaitTimeSeconds])).toEqual([
      [10, 1],
      [10, 1],
      [10, 1],
    ]);
    expect(queue.remaining().every((m) => !m.hidden)).toBe(true);
    expect(queue.remaining()).toHaveLength(13);
    expect(text()).toContain(
      'm-0  alert alert-0 (severity 1, "Host: [31mred[0m alert-0"): deliver: Squadcast answered 401 at 2023-11-14T22:13:25.000Z',
    );
    expect(text()).not.toContain('\u001b');
    expect(text()).toContain('    first accepted  2023-11-14T22:13:20.000Z');
    expect(text()).toContain('    received        3 times by deliver');
    expect(text()).toContain('    before that     deliver: Squadcast answered 403 at 2023-11-13T08:00:00.000Z');
    expect(text()).toContain(
      'm-12  not an alert: ingest: invalid alert at 2023-11-14T22:13:20.000Z [alerts[1]: expected object]: a redrive brings it straight back',
    );
    expect(text()).toContain('    before that     redriven 2 times, back each time');
    // What is not an alert is shown: the element that was sent, as JSON.
    expect(text()).toContain('    content         ["SENTINEL-raw-value"]');
    expect(text()).toContain('Move back the 12 alerts with npm run redrive -- --stage prod once the cause is fixed.');
    expect(text()).toContain(
      'What a redrive brings straight back, settle with npm run dead-letters -- --stage prod --discard <message id> --reason "<why>".',
    );
  });

  it('names the last failed send the ledger kept for an alert the queue moved itself, asking the status about that alert only', async () => {
    const moved = JSON.stringify({ alert: anAlert({ id: 'a-moved' }), alertId: 'a-moved', receivedAt: '2023-11-14T22:13:20.000Z' });
    const queue = fakeQueue([refused('a-refused'), moved]);
    const status = statusFunction({ 'a-moved': 'Squadcast answered 500' });
    const { io, text } = captureIo();
    expect(await run(['--stage', 'prod'], io, depsFor(queue.client, recording().log, status))).toBe(0);
    expect(text()).toContain(
      'alert a-moved (severity 1, "Host:  sudo to root by unexpected user"): moved here by the queue after 1000 receives; its last failed send: Squadcast answered 500',
    );
    const asked = status.inputsOf<{ FunctionName: string; Payload: Uint8Array }>('InvokeCommand');
    expect(asked.map((i) => `${i.FunctionName} ${Buffer.from(i.Payload).toString()}`)).toEqual([
      'threatstack-squadcast-relay-prod-status {"alertId":"a-moved"}',
    ]);
  });

  it('says so when the queue is empty', async () => {
    const { io, text } = captureIo();
    expect(await run(['--stage', 'prod'], io, depsFor(fakeQueue([]).client))).toBe(0);
    expect(text()).toBe(`${DLQ}: empty.`);
  });

  it('--json gives the same entries to a program, each with its content (control characters removed)', async () => {
    const { io, text } = captureIo();
    expect(await run(['--stage', 'prod', '--json'], io, depsFor(fakeQueue([refused('a-1'), notAnAlert]).client))).toBe(0);
    const entries = JSON.parse(text()) as Array<Record<string, unknown>>;
    expect(entries).toEqual([
      expect.objectContaining({ messageId: 'm-0', kind: 'alert', alertId: 'a-1', attempts: 3, redeliverable: true }),
      expect.objectContaining({ messageId: 'm-1', kind: 'not an alert', problems: ['alerts[1]: expected object'], redeliverable: false }),
    ]);
    expect(entries[1]?.content).toBe('["SENTINEL-raw-value"]');
    expect(String(entries[0]?.content)).toContain('"id":"a-1"');
    expect(String(entries[0]?.content)).not.toContain('\u001b');
  });

  it('a dead letter that is not JSON shows its text, cut to 2000 characters', async () => {
    const { io, text } = captureIo();
    expect(await run(['--stage', 'prod', '--json'], io, depsFor(fakeQueue([`not json ${'x'.repeat(3_000)}`]).client))).toBe(0);
    const [entry] = JSON.parse(text()) as Array<Record<string, unknown>>;
    expect(entry).toMatchObject({ kind: 'unreadable', reason: 'not JSON' });
    expect([...String(entry?.content)]).toHaveLength(2_000);
    expect(String(entry?.content)).toMatch(/^not json x+…$/);
  });

  it('--discard shows the one dead letter, deletes it once confirmed, and records who, why and what', async () => {
    const queue = fakeQueue([refused('a-1'), notAnAlert]);
    const { records, log } = recording();
    const { io, text, questions } = captureIo(['y']);
    expect(
      await run(['--stage', 'prod', '--discard', 'm-1', '--reason', ' not an alert: a test post '], io, depsFor(queue.client, log)),
    ).toBe(0);
    expect(questions).toEqual(['Discard m-1 for good? [y/N] ']);
    // Received again for a current receipt handle (the first read's was released), and only that one deleted.
    expect(queue.inputsOf('DeleteMessageCommand')).toEqual([{ QueueUrl: url(DLQ), ReceiptHandle: 'm-1/2' }]);
    expect(queue.remaining()).toEqual([{ id: 'm-0', hidden: false }]);
    expect(records).toEqual([
      {
        action: 'dead letter discarded',
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        by: 'alice',
        reason: 'not an alert: a test post',
        queue: DLQ,
        messageId: 'm-1',
        kind: 'not an alert',
        deadLetterReason: 'ingest: invalid alert',
        problems: ['alerts[1]: expected object'],
        content: '["SENTINEL-raw-value"]',
      },
    ]);
    expect(text()).toContain('Discarded m-1; recorded in /threatstack-squadcast-relay/prod/operations (stream dead-letters-2023-11-14).');
  });

  it('--discard warns when a redrive could still deliver the alert, and keeps it unless the answer is yes', async () => {
    const queue = fakeQueue([refused('a-1')]);
    const { records, log } = recording();
    const { io, text } = captureIo(['n']);
    expect(await run(['--stage', 'prod', '--discard', 'm-0', '--reason', 'r'], io, depsFor(queue.client, log))).toBe(0);
    expect(text()).toContain('A redrive could still deliver this one (npm run redrive): discarding it means it never pages.');
    expect(text()).toContain('Nothing discarded.');
    expect(queue.inputsOf('DeleteMessageCommand')).toEqual([]);
    expect(records).toEqual([]);
    expect(queue.remaining()).toEqual([{ id: 'm-0', hidden: false }]);
  });

  it('--discard without a terminal needs --yes', async () => {
    const queue = fakeQueue([notAnAlert]);
    const { io, errors } = captureIo();
    expect(await run(['--stage', 'prod', '--discard', 'm-0', '--reason', 'r'], io, depsFor(queue.client))).toBe(1);
    expect(errors()).toContain('Nothing discarded. Run again with --yes to discard it.');
    expect(queue.inputsOf('DeleteMessageCommand')).toEqual([]);
    expect(await run(['--stage', 'prod', '--discard', 'm-0', '--reason', 'r', '--yes'], captureIo().io, depsFor(queue.client))).toBe(0);
    expect(queue.remaining()).toEqual([]);
  });

  it('--discard of a message moved away while the person was deciding says so, and records nothing', async () => {
    const queue = fakeQueue([notAnAlert, refused('a-1')]);
    const { records, log } = recording();
    const io = {
      ...captureIo().io,
      ask: async () => {
        queue.drop('m-0');
        return 'y';
      },
    };
    await expect(run(['--stage', 'prod', '--discard', 'm-0', '--reason', 'r'], io, depsFor(queue.client, log))).rejects.toThrow(
      `m-0 is no longer in ${DLQ} (moved or discarded meanwhile): nothing discarded`,
    );
    expect(records).toEqual([]);
    expect(queue.remaining()).toEqual([{ id: 'm-1', hidden: false }]);
  });

  it('--discard of a message that is not there changes nothing', async () => {
    const queue = fakeQueue([notAnAlert]);
    await expect(
      run(['--stage', 'prod', '--discard', 'm-9', '--reason', 'r', '--yes'], captureIo().io, depsFor(queue.client)),
    ).rejects.toThrow(`no dead letter m-9 in ${DLQ}`);
    expect(queue.inputsOf('DeleteMessageCommand')).toEqual([]);
  });

  it('when the operations log cannot take the record, prints it and exits 1: the record is never lost', async () => {
    const queue = fakeQueue([notAnAlert]);
    const failing: OperationsLog = { record: () => Promise.reject(new Error('AccessDeniedException: logs:PutLogEvents')) };
    const { io, text, errors } = captureIo();
    expect(await run(['--stage', 'prod', '--discard', 'm-0', '--reason', 'a test post', '--yes'], io, depsFor(queue.client, failing))).toBe(
      1,
    );
    expect(errors()).toContain(
      'Discarded m-0, but the operations log could not record it (AccessDeniedException: logs:PutLogEvents). The record:',
    );
    expect(JSON.parse(text().split('\n').pop() ?? '')).toMatchObject({ messageId: 'm-0', reason: 'a test post', by: 'alice' });
  });

  it.each([
    [['--stage', 'prod', '--discard', 'm-0'], '--discard needs --reason "<why>": it is recorded with what was discarded.'],
    [['--stage', 'prod', '--discard', 'm-0', '--reason', '   '], '--discard needs --reason "<why>"'],
    [['--stage', 'prod', '--discard', 'm-0', '--reason', 'r', '--json'], '--discard and --json cannot go together.'],
    [['--stage', 'prod', '--local'], '--stage and --local'],
    [['--stage', 'prod', '--what'], "Unknown option '--what'"],
  ])('refuses %j before touching a queue', async (argv, message) => {
    const queue = fakeQueue([notAnAlert]);
    await expect(run(argv, captureIo().io, depsFor(queue.client))).rejects.toThrow(message);
    expect(queue.commands()).toEqual([]);
  });

  it('--help prints the usage and touches nothing', async () => {
    const queue = fakeQueue([notAnAlert]);
    const { io, text } = captureIo();
    expect(await run(['--help'], io, depsFor(queue.client))).toBe(0);
    expect(text()).toMatch(/^usage: npm run dead-letters -- --stage <stage>/);
    expect(queue.commands()).toEqual([]);
  });
});

describe('describeDeadLetter', () => {
  const message = (Body: string) => ({ MessageId: 'm-1', ReceiptHandle: 'r', Body });

  it('names a message that is not JSON, or of no known shape, without showing it', () => {
    expect(describeDeadLetter(message('SENTINEL{'))).toMatchObject({ kind: 'unreadable', reason: 'not JSON', redeliverable: false });
    expect(describeDeadLetter(message('{"SENTINEL":1}'))).toMatchObject({ kind: 'unreadable', reason: 'unknown message shape' });
  });

  it('explains an alert the queue moved itself: with the last failed send the ledger kept, or without one', () => {
    const entry = describeDeadLetter(message(JSON.stringify({ alert: anAlert({ id: 'a-9' }) })), 5);
    expect(entry).toMatchObject({ kind: 'alert', alertId: 'a-9', redeliverable: true });
    expect(entry.reason).toBe(
      'no failure recorded: moved here by the queue after 5 receives (deliver failed on it before it could send: a crash, a timeout, or a dependency failing every time)',
    );
    expect(describeDeadLetter(message(JSON.stringify({ alert: anAlert({ id: 'a-9' }) })), 1, 'Squadcast answered 500').reason).toBe(
      'moved here by the queue after 1 receives; its last failed send: Squadcast answered 500',
    );
  });
});
