/**
 * Command-level fakes of AWS SDK v3 clients: `send` is a jest.fn that sees the real Command
 * objects (`command.constructor.name`, `command.input`) and answers with what the test says.
 */
export interface SentCommand {
  readonly name: string;
  readonly input: Record<string, unknown>;
}

type Respond = (name: string, input: Record<string, unknown>) => unknown;

export interface FakeAwsClient<Client> {
  readonly client: Client;
  readonly send: jest.Mock<Promise<unknown>, [unknown]>;
  /** Every command sent so far, in order. */
  commands(): SentCommand[];
  /** Only the commands of one kind, e.g. 'SendMessageBatchCommand'. */
  inputsOf<T = Record<string, unknown>>(name: string): T[];
}

export const describeCommand = (command: unknown): SentCommand => {
  const c = command as { constructor: { name: string }; input: Record<string, unknown> };
  return { name: c.constructor.name, input: c.input };
};

/** `respond` may return a value (resolved), or throw (the send rejects with it). */
export const fakeAwsClient = <Client>(respond: Respond = () => ({})): FakeAwsClient<Client> => {
  const send = jest.fn(async (command: unknown): Promise<unknown> => {
    const { name, input } = describeCommand(command);
    return respond(name, input);
  });
  const commands = (): SentCommand[] => send.mock.calls.map(([command]) => describeCommand(command));
  return {
    client: { send } as unknown as Client,
    send,
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
