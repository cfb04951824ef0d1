import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { request } from 'node:http';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { EmulatorClients } from '../helpers/emulators';
import { emulatorClients } from '../helpers/emulators';
import type { EmulatorProcess } from '../helpers/local-processes';
import { startEmulatorProcess } from '../helpers/local-processes';

/**
 * The embedded emulators played against by a hostile web page. A page that found their ports in
 * `npm start`'s banner must not mark an alert delivered (a ledger row, so that it never pages), nor
 * read or add queued alerts: not from its own origin, not through DNS rebinding (its own name
 * resolving to 127.0.0.1), and not with guessed credentials. Only the relay and this machine's tools,
 * signing with the per-start credentials, get through. Every refusal is checked against a request
 * that is the same in all else and does get through.
 */
let emulators: EmulatorProcess;
let clients: EmulatorClients;
const TABLE = 'hostile-page-ledger';
let queueUrl = '';

beforeAll(async () => {
  emulators = await startEmulatorProcess();
  clients = emulatorClients(emulators);
  await clients.dynamodb.send(
    new CreateTableCommand({
      TableName: TABLE,
      AttributeDefinitions: [{ AttributeName: 'alertId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'alertId', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  queueUrl = (await clients.sqs.send(new CreateQueueCommand({ QueueName: 'hostile-page-alerts' }))).QueueUrl ?? '';
  await clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"alert":{"id":"queued-1"}}' }));
}, 150_000);

afterAll(async () => {
  clients?.destroy();
  await emulators?.stop();
});

type Tamper = { readonly origin?: string; readonly host?: string };

/** The request a browser would add headers to: Origin on every cross-origin call, its own name as Host after a DNS rebinding. */
const withHeaders = <C extends SQSClient | DynamoDBClient>(client: C, tamper: Tamper): C => {
  // Both clients' stacks take the same build-step middleware; typed as one of them.
  (client.middlewareStack as unknown as SQSClient['middlewareStack']).add(
    (next) => async (args) => {
      const headers = (args.request as { headers: Record<string, string> }).headers;
      if (tamper.origin !== undefined) headers.origin = tamper.origin;
      if (tamper.host !== undefined) headers.host = tamper.host;
      return next(args);
    },
    { step: 'build', name: 'hostilePage' },
  );
  return client;
};

const clientsAs = (credentials: { accessKeyId: string; secretAccessKey: string }, tamper: Tamper = {}) => {
  const config = { region: 'us-east-1', credentials, maxAttempts: 1 };
  return {
    dynamodb: withHeaders(new DynamoDBClient({ ...config, endpoint: emulators.dynamodbEndpoint }), tamper),
    sqs: withHeaders(new SQSClient({ ...config, endpoint: emulators.sqsEndpoint }), tamper),
  };
};

/** What the page tries: mark alert `alertId` delivered, and read the queued alerts. */
const attempt = async (as: ReturnType<typeof clientsAs>, alertId: string) => {
  const outcome = async (send: () => Promise<unknown>): Promise<string> => {
    try {
      await send();
      return 'done';
    } catch (error) {
      const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      return `${e.$metadata?.httpStatusCode ?? '?'} ${e.message ?? e.name}`;
    }
  };
  const ledger = await outcome(() =>
    as.dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: { alertId: { S: alertId }, state: { S: 'delivered' } } })),
  );
  const queue = await outcome(() =>
    as.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: 0, WaitTimeSeconds: 0 })),
  );
  as.dynamodb.destroy();
  as.sqs.destroy();
  return { ledger, queue };
};

const ledgerHas = async (alertId: string): Promise<boolean> =>
  (await clients.dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { alertId: { S: alertId } }, ConsistentRead: true }))).Item !==
  undefined;

describe('a web page cannot reach the embedded emulators', () => {
  it.each<[string, (port: string) => Tamper, boolean, string]>([
    [
      'from its own origin, even with the right credentials',
      () => ({ origin: 'http://evil.example' }),
      true,
      'requests from web pages are refused',
    ],
    [
      "from the relay's own origin (a page served there would be the relay's; none is)",
      (port) => ({ origin: `http://127.0.0.1:${port}` }),
      true,
      'requests from web pages are refused',
    ],
    [
      'through DNS rebinding (its own name as Host)',
      (port) => ({ host: `rebind.evil.example:${port}` }),
      true,
      'the Host header does not name this emulator',
    ],
    ['with guessed credentials', () => ({}), false, "the request is not signed with this relay's local credentials"],
  ])('%s: 403, no ledger row written, no alert read', async (_name, tamper, rightCredentials, reason) => {
    const alertId = `hostile-${Math.random().toString(36).slice(2)}`;
    const credentials = rightCredentials ? emulators.credentials : { accessKeyId: 'local', secretAccessKey: 'local' };
    const refused = await attempt(clientsAs(credentials, tamper(new URL(emulators.dynamodbEndpoint).port)), alertId);
    expect(refused.ledger).toBe(`403 forbidden: ${reason}`);
    expect(refused.queue).toMatch(/^403 /);
    expect(await ledgerHas(alertId)).toBe(false);
  });

  it('the same request from the relay (its credentials, no Origin, its Host) gets through', async () => {
    const alertId = `relay-${Math.random().toString(36).slice(2)}`;
    expect(await attempt(clientsAs(emulators.credentials), alertId)).toEqual({ ledger: 'done', queue: 'done' });
    expect(await ledgerHas(alertId)).toBe(true);
  });

  it("a browser's preflight is refused, with no CORS header that would let a page read an answer", async () => {
    for (const endpoint of [emulators.dynamodbEndpoint, emulators.sqsEndpoint]) {
      const answer = await raw(endpoint, 'OPTIONS', {
        origin: 'http://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-amz-target',
      });
      expect(answer.status).toBe(403);
      expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    }
  });
});

/** One plain HTTP request, as a page's fetch sends it. */
const raw = (endpoint: string, method: string, headers: OutgoingHttpHeaders): Promise<{ status: number; headers: IncomingHttpHeaders }> =>
  new Promise((resolve, reject) => {
    const url = new URL(endpoint);
    const req = request({ host: url.hostname, port: url.port, path: '/', method, headers }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers }));
    });
    req.on('error', reject);
    req.end();
  });
