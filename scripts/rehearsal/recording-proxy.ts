import { startWireProxy } from '../../devkit/aws-wire-proxy';

/**
 * An HTTP proxy on 127.0.0.1 in front of moto, one per function: every AWS call a bundle makes
 * passes through it (AWS_ENDPOINT_URL_SQS / _DYNAMODB / _SSM point at it) and is recorded as the
 * IAM action it needs and the resource it names, then forwarded unchanged.
 */
export interface AwsCall {
  /** The function whose role makes the call (or the event source mapping, on deliver's role). */
  readonly caller: string;
  /** The IAM action, e.g. `sqs:SendMessage` for SendMessageBatch. */
  readonly action: string;
  /** The API operation as sent, e.g. `SendMessageBatch`. */
  readonly operation: string;
  /** What the call names, as the request says it (a queue URL, a table name, a parameter name). */
  readonly target: { readonly kind: 'queue' | 'table' | 'index' | 'parameter' | 'none'; readonly name: string; readonly table?: string };
  readonly status: number;
}

export interface RecordingProxy {
  readonly url: string;
  close(): Promise<void>;
}

/** The JSON protocols' X-Amz-Target prefix, per service: `AmazonSQS.SendMessageBatch`. */
const SERVICES: Readonly<Record<string, string>> = { AmazonSQS: 'sqs', DynamoDB_20120810: 'dynamodb', AmazonSSM: 'ssm' };

/** IAM authorizes a batch call with its single action. https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html */
const BATCH_ACTIONS: Readonly<Record<string, string>> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

/** The IAM action and the resource one request names, from its X-Amz-Target and JSON body. */
export const describeCall = (caller: string, target: string, body: string, status: number): AwsCall => {
  const [prefix = '', operation = 'unknown'] = target.split('.');
  const service = SERVICES[prefix] ?? `unknown(${prefix})`;
  let input: Record<string, unknown> = {};
  try {
    input = JSON.parse(body) as Record<string, unknown>;
  } catch {
    // Not JSON: the call names no resource the rehearsal can read.
  }
  const named = (key: string): string => (typeof input[key] === 'string' ? (input[key] as string) : '');
  const described: AwsCall['target'] =
    service === 'sqs' && named('QueueUrl') !== ''
      ? { kind: 'queue', name: named('QueueUrl') }
      : service === 'dynamodb' && named('IndexName') !== ''
        ? { kind: 'index', name: named('IndexName'), table: named('TableName') }
        : service === 'dynamodb'
          ? { kind: 'table', name: named('TableName') }
          : service === 'ssm'
            ? { kind: 'parameter', name: named('Name') }
            : { kind: 'none', name: '' };
  return { caller, operation, action: `${service}:${BATCH_ACTIONS[operation] ?? operation}`, target: described, status };
};

/** The rehearsal's proxy (devkit/aws-wire-proxy.ts) for one caller: each call, as the IAM action it needs, to `record`. */
export const startRecordingProxy = async (caller: string, upstream: string, record: (call: AwsCall) => void): Promise<RecordingProxy> =>
  startWireProxy({
    upstream,
    // moto checks the Host header against itself.
    keepHost: false,
    observe: ({ amzTarget, requestBody, status }) => record(describeCall(caller, amzTarget, requestBody.toString('utf8'), status)),
  });
