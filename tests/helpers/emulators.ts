import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * What every test that talks to the SQS and DynamoDB emulators shares: the region and dummy
 * credentials, the environment that points a process (or a handler loaded in the test) at them,
 * SDK clients for the test's own checks, and the teardown of a local stack.
 */
export interface EmulatorEndpoints {
  readonly sqsEndpoint: string;
  readonly dynamodbEndpoint: string;
  /** The credentials the emulators accept (new at every start). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

const REGION = 'us-east-1';

/** The SDK's standard settings (endpoints, region, credentials) for the emulators, as environment variables. */
export const emulatorEnv = (emulators: EmulatorEndpoints): NodeJS.ProcessEnv => ({
  AWS_ENDPOINT_URL_SQS: emulators.sqsEndpoint,
  AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamodbEndpoint,
  AWS_ACCESS_KEY_ID: emulators.credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: emulators.credentials.secretAccessKey,
  AWS_REGION: REGION,
});

export interface EmulatorClients {
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  /** Closes both clients' sockets. */
  destroy(): void;
}

/** SQS and DynamoDB clients for the emulators. */
export const emulatorClients = (emulators: EmulatorEndpoints): EmulatorClients => {
  const config = { region: REGION, credentials: emulators.credentials };
  const sqs = new SQSClient({ ...config, endpoint: emulators.sqsEndpoint });
  const dynamodb = new DynamoDBClient({ ...config, endpoint: emulators.dynamodbEndpoint });
  return {
    sqs,
    dynamodb,
    destroy: () => {
      sqs.destroy();
      dynamodb.destroy();
    },
  };
};

interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Stops what a local-stack test started, whichever of it did start: the test's clients, then the
 * relay (so that it does not log errors about vanished emulators), then the emulators and Squadcast.
 */
export const stopLocalStack = async (stack: {
  readonly clients?: { destroy(): void } | undefined;
  readonly relay?: Stoppable | undefined;
  readonly emulators?: Stoppable | undefined;
  readonly squadcast?: Stoppable | undefined;
}): Promise<void> => {
  stack.clients?.destroy();
  await stack.relay?.stop();
  await Promise.all([stack.emulators?.stop(), stack.squadcast?.stop()]);
};
