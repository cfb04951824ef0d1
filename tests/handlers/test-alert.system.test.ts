import { CreateQueueCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import testAlertEvent from '../../events/test-alert.json';
import testAlertHighEvent from '../../events/test-alert-high.json';
import { decodeWith } from '../../lib/common/checked';
import { QueuedAlertCodec } from '../../lib/queue/messages';
import type { TestAlertResult } from '../../lib/test-alert/test-alert';
import type { EmulatorClients } from '../helpers/emulators';
import { emulatorClients, emulatorEnv, stopLocalStack } from '../helpers/emulators';
import type { EmulatorProcess } from '../helpers/local-processes';
import { startEmulatorProcess } from '../helpers/local-processes';

/**
 * The test-alert Lambda entry, loaded as Lambda loads it (environment first), sending to the SQS
 * emulator over the real protocol: what lands on the queue is exactly what deliver will read.
 */
type Handler = (event: unknown) => Promise<TestAlertResult>;

let emulators: EmulatorProcess;
let sqs: SQSClient;
let clients: EmulatorClients;
let queueUrl = '';
let handler: Handler;
let savedEnv: NodeJS.ProcessEnv;
let stdout: jest.SpyInstance;
let stderr: jest.SpyInstance;

const receiveAll = async (): Promise<string[]> => {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }),
  );
  return Messages.map((message) => message.Body ?? '');
};

beforeAll(async () => {
  emulators = await startEmulatorProcess();
  clients = emulatorClients(emulators);
  ({ sqs } = clients);
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'test-alert-handler-alerts' }))).QueueUrl ?? '';
  savedEnv = process.env;
  process.env = {
    ...savedEnv,
    ...emulatorEnv(emulators),
    ALERTS_QUEUE_URL: queueUrl,
    RELAY_STAGE: 'handler-test',
  };
  jest.isolateModules(() => {
    handler = (require('../../handlers/test-alert') as { handler: Handler }).handler;
  });
}, 60_000);

beforeEach(() => {
  stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  // A refused event is logged as an error line (on stderr).
  stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => {
  stdout.mockRestore();
  stderr.mockRestore();
});

afterAll(async () => {
  process.env = savedEnv;
  await stopLocalStack({ clients, emulators });
});

test('events/test-alert.json: one message on the alerts queue, a labelled severity-3 alert that deliver can decode', async () => {
  const result = await handler(testAlertEvent);
  expect(result).toMatchObject({
    sent: true,
    title: 'TEST ALERT from threatstack-squadcast-relay',
    severity: 3,
    queue: 'test-alert-handler-alerts',
  });
  expect(result.alertId).toMatch(/^relay-test-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(result.next).toContain(result.alertId);

  const bodies = await receiveAll();
  expect(bodies).toHaveLength(1);
  const decoded = decodeWith(QueuedAlertCodec, JSON.parse(bodies[0] ?? ''));
  if (decoded.kind === 'invalid') throw new Error(`the queued test alert does not decode: ${decoded.problems.join('; ')}`);
  expect(decoded.value.alert).toMatchObject({
    id: result.alertId,
    title: 'TEST ALERT from threatstack-squadcast-relay',
    severity: 3,
    server_or_region: 'relay stage handler-test',
    source: 'RelayTest',
  });
  expect(decoded.value.receivedAt).toBe(result.sentAt);

  // The log line names the alert as its correlation key.
  const logged = stdout.mock.calls.map(([line]) => String(line)).find((line) => line.includes('test alert queued'));
  expect(JSON.parse(logged ?? '{}')).toMatchObject({ level: 'INFO', service: 'test-alert', correlation_id: result.alertId });
});

test('events/test-alert-high.json sends severity 1; each call is a new alert id', async () => {
  const first = await handler(testAlertHighEvent);
  const second = await handler({});
  expect(first.severity).toBe(1);
  expect(second.severity).toBe(3);
  expect(first.alertId).not.toBe(second.alertId);
  const ids = (await receiveAll()).map((body) => (JSON.parse(body) as { alert: { id: string } }).alert.id).sort();
  expect(ids).toEqual([first.alertId, second.alertId].sort());
});

test("the Lambda console's default template and an empty invoke send the default test alert", async () => {
  await expect(handler({ key1: 'value1', key2: 'value2', key3: 'value3' })).resolves.toMatchObject({ severity: 3 });
  await expect(handler(null)).resolves.toMatchObject({ severity: 3 });
  expect(await receiveAll()).toHaveLength(2);
});

test('a bad severity fails the invocation, naming the field, and sends nothing', async () => {
  await expect(handler({ severity: 7 })).rejects.toThrow('invalid test-alert event: severity: expected Severity(1|2|3)');
  await expect(handler({ severity: 'high' })).rejects.toMatchObject({ name: 'InvalidTestAlertEvent' });
  expect(await receiveAll()).toHaveLength(0);
});
