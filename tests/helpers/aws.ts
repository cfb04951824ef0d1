import { mockClient } from 'aws-sdk-client-mock';

/**
 * Command-level fakes of AWS SDK v3 clients, on aws-sdk-client-mock: a real client instance whose
 * `send` answers with what the test says. The code under test builds the real Command objects
 * (`command.constructor.name`, `command.input`), and the test reads them back in order.
 * https://github.com/m-radzikowski/aws-sdk-client-mock
 */
export interface SentCommand {
  readonly name: string;
  readonly input: Record<string, unknown>;
}

type Respond = (name: string, input: Record<string, unknown>) => unknown;

export interface FakeAwsClient<Client> {
  readonly client: Client;
  /** Every command sent so far, in order. */
  commands(): SentCommand[];
  /** Only the commands of one kind, e.g. 'SendMessageBatchCommand'. */
  inputsOf<T = Record<string, unknown>>(name: string): T[];
}

export const describeCommand = (command: unknown): SentCommand => {
  const c = command as { constructor: { name: string }; input: Record<string, unknown> };
  return { name: c.constructor.name, input: c.input };
};

/** Dummy settings: nothing reaches the network, and no credential provider is asked. */
const OFFLINE = { region: 'us-east-1', credentials: { accessKeyId: 'AKIAUNITTESTDUMMY000', secretAccessKey: 'unit-test' } } as const;

/**
 * A real `ClientClass` instance whose every command is answered by `respond`, which may return a
 * value (resolved) or throw (the send rejects with it).
 */
export const fakeAwsClient = <Client extends object>(
  ClientClass: new (config: typeof OFFLINE) => Client,
  respond: Respond = () => ({}),
): FakeAwsClient<Client> => {
  const client = new ClientClass(OFFLINE);
  const mock = mockClient(client as never);
  mock.callsFake(async (input: Record<string, unknown>, getClient: unknown) => {
    void getClient;
    const calls = mock.calls();
    const { name } = describeCommand(calls[calls.length - 1]?.args[0]);
    return respond(name, input);
  });
  const commands = (): SentCommand[] => mock.calls().map((call) => describeCommand(call.args[0]));
  return {
    client,
    commands,
    inputsOf: <T>(name: string) =>
      commands()
        .filter((c) => c.name === name)
        .map((c) => c.input as T),
  };
};

/** An error shaped as the SDK throws it (name, $fault, $metadata), for code that checks the name. */
export const anAwsError = (name: string, extra: Record<string, unknown> = {}): Error =>
  Object.assign(new Error(`${name} (fake)`), { name, $fault: 'server', $metadata: { httpStatusCode: 500 } }, extra);
