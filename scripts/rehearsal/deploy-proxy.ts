import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readAll } from '../../local/api-gateway-event';
import { motoClientConfig } from './stack';

/**
 * The endpoint `serverless deploy` and `serverless remove` talk to in the rehearsal (AWS_ENDPOINT_URL),
 * in front of moto on 127.0.0.1. Every request the CLI makes with the deploy identity is recorded as the
 * IAM action it needs, the resource it names and the request context IAM sees, then forwarded.
 *
 * One adaptation, because moto's CloudFormation has no model for some types (CloudWatch alarms and
 * dashboards, API Gateway stages: it cannot resolve a reference to them): when a change set names a
 * template (TemplateURL), the proxy stores a copy without those resources next to it and hands moto the
 * copy. The rehearsal creates them through their own APIs afterwards (stack.ts), and says so. It can also
 * add a resource that fails, for the rehearsal's failed update.
 */
export interface DeployCall {
  /** The IAM action, e.g. `cloudformation:CreateChangeSet`, `s3:PutObject`. */
  readonly action: string;
  /** The ARN IAM evaluates it on (`*` where the action takes none). */
  readonly resource: string;
  /** What IAM's request context holds for it (cloudformation:RoleArn, iam:PassedToService). */
  readonly context: Readonly<Record<string, string>>;
  /** The request as sent, for the report: `POST CreateChangeSet`, `PUT /bucket/key`. */
  readonly request: string;
  readonly status: number;
}

/** The template moto gets instead of the one uploaded (the uploaded one is left as it is). */
export type TemplateAdapter = (template: Record<string, unknown>) => Record<string, unknown>;

export interface DeployProxy {
  readonly url: string;
  readonly calls: DeployCall[];
  /** Every template a change set or stack call named, as uploaded, in order. */
  readonly templates: Array<{ readonly url: string; readonly body: Record<string, unknown> }>;
  /** Replaces how templates are adapted for moto (for one failing update, say). */
  adapt(adapter: TemplateAdapter): void;
  close(): Promise<void>;
}

export interface DeployFacts {
  readonly region: string;
  readonly account: string;
  readonly partition: string;
}

const header = (request: IncomingMessage, name: string): string => {
  const value = request.headers[name];
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
};

/** The service a SigV4 request is signed for: `Credential=<key>/<date>/<region>/<service>/aws4_request`. */
const signedService = (request: IncomingMessage): string =>
  /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(header(request, 'authorization'))?.[1] ?? '';

/**
 * CloudFormation's stack ARN for a StackName that is a name or already an id. IAM evaluates a call by
 * name on the stack's id (arn:…:stack/<name>/<uuid>): a placeholder uuid stands for it here, never a
 * wildcard (an evaluator would read `*` as "any stack of that name").
 */
const stackArn = (name: string, facts: DeployFacts): string =>
  name.startsWith('arn:')
    ? name
    : `arn:${facts.partition}:cloudformation:${facts.region}:${facts.account}:stack/${name}/00000000-0000-4000-8000-000000000000`;

/** The IAM actions of S3's REST requests the CLI makes. https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html */
const describeS3 = (method: string, url: URL, body: string, facts: DeployFacts): Array<Pick<DeployCall, 'action' | 'resource'>> => {
  const [bucket = '', ...keyParts] = url.pathname.replace(/^\//, '').split('/');
  const key = keyParts.join('/');
  const bucketArn = `arn:${facts.partition}:s3:::${bucket}`;
  const on = (action: string, object: boolean) => [
    { action: `s3:${action}`, resource: object ? `${bucketArn}/${decodeURIComponent(key)}` : bucketArn },
  ];
  if (key === '') {
    if (url.searchParams.has('versions')) return on('ListBucketVersions', false);
    if (url.searchParams.has('location')) return on('GetBucketLocation', false);
    // DeleteObjects is authorized as DeleteObject on each key it names (DeleteObjectVersion with a version).
    if (method === 'POST' && url.searchParams.has('delete'))
      return [...body.matchAll(/<Object>\s*<Key>([^<]*)<\/Key>\s*(<VersionId>)?/g)].map((m) => ({
        action: m[2] === undefined ? 's3:DeleteObject' : 's3:DeleteObjectVersion',
        resource: `${bucketArn}/${(m[1] ?? '').replace(/&amp;/g, '&')}`,
      }));
    return on('ListBucket', false); // HeadBucket, ListObjectsV2
  }
  if (method === 'PUT') return on('PutObject', true);
  if (method === 'DELETE') return on(url.searchParams.has('versionId') ? 'DeleteObjectVersion' : 'DeleteObject', true);
  return on('GetObject', true); // GET, HEAD
};

/** Lambda's REST requests: /2015-03-31/functions/{name}[/invocations], /2016-08-19/account-settings. */
const describeLambda = (method: string, url: URL, facts: DeployFacts): Pick<DeployCall, 'action' | 'resource'> => {
  if (url.pathname.includes('/account-settings')) return { action: 'lambda:GetAccountSettings', resource: '*' };
  const name = decodeURIComponent(/\/functions\/([^/]+)/.exec(url.pathname)?.[1] ?? '');
  const fn = name.startsWith('arn:') ? name : `arn:${facts.partition}:lambda:${facts.region}:${facts.account}:function:${name}`;
  if (url.pathname.endsWith('/invocations')) return { action: 'lambda:InvokeFunction', resource: fn };
  if (url.pathname.endsWith('/concurrency')) return { action: 'lambda:GetFunctionConcurrency', resource: fn };
  return { action: method === 'GET' ? 'lambda:GetFunction' : `lambda:${method} ${url.pathname}`, resource: fn };
};

/** A request of a query (form-encoded) or JSON protocol: its operation and parameters. */
const operationOf = (request: IncomingMessage, body: string): { operation: string; params: Record<string, string> } => {
  const target = header(request, 'x-amz-target');
  if (target !== '') {
    let params: Record<string, string> = {};
    try {
      params = JSON.parse(body) as Record<string, string>;
    } catch {
      // No JSON body.
    }
    return { operation: target.split('.').pop() ?? '', params };
  }
  const params = Object.fromEntries(new URLSearchParams(body));
  return { operation: params.Action ?? '', params };
};

/** The calls one request stands for in IAM (CloudFormation with a RoleARN is also iam:PassRole of that role). */
export const describeDeployCall = (request: IncomingMessage, body: string, facts: DeployFacts): Array<Omit<DeployCall, 'status'>> => {
  const service = signedService(request);
  const url = new URL(request.url ?? '/', 'http://proxy');
  const method = request.method ?? 'GET';
  if (service === 's3')
    return describeS3(method, url, body, facts).map((call) => ({
      ...call,
      context: {},
      request: `${method} ${url.pathname}${url.search}`,
    }));
  if (service === 'lambda') return [{ ...describeLambda(method, url, facts), context: {}, request: `${method} ${url.pathname}` }];
  const { operation, params } = operationOf(request, body);
  const call = (action: string, resource: string, context: Record<string, string> = {}) => ({
    action,
    resource,
    context,
    request: operation,
  });
  if (service === 'cloudformation') {
    const stack = params.StackName ?? '';
    const role = params.RoleARN;
    const onStack = stack === '' ? '*' : stackArn(stack, facts);
    const calls = [
      call(
        `cloudformation:${operation}`,
        ['ValidateTemplate', 'ListExports'].includes(operation) ? '*' : onStack,
        role ? { 'cloudformation:RoleArn': role } : {},
      ),
    ];
    // Passing a service role to CloudFormation is iam:PassRole on it, to cloudformation.amazonaws.com.
    if (role !== undefined) calls.push(call('iam:PassRole', role, { 'iam:PassedToService': 'cloudformation.amazonaws.com' }));
    return calls;
  }
  if (service === 'sts') return [call(`sts:${operation}`, '*')];
  // osls's remove looks for the stage's image repository (serverless-<service>-<stage>).
  if (service === 'ecr') {
    const names = (params as unknown as { repositoryNames?: string[] }).repositoryNames ?? [];
    return names.map((name) => call(`ecr:${operation}`, `arn:${facts.partition}:ecr:${facts.region}:${facts.account}:repository/${name}`));
  }
  if (service === 'sns') return [call(`sns:${operation}`, params.TopicArn ?? '*')];
  return [call(`${service || 'unknown'}:${operation || `${method} ${url.pathname}`}`, '*')];
};

/** The bucket and key of a TemplateURL (`https://s3.amazonaws.com/<bucket>/<key>`, path style as osls writes it). */
const objectOf = (templateUrl: string): { bucket: string; key: string } => {
  const [bucket = '', ...key] = new URL(templateUrl).pathname.replace(/^\//, '').split('/');
  return { bucket, key: key.join('/') };
};

const forward = (
  upstream: URL,
  request: IncomingMessage,
  body: Buffer,
): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> =>
  new Promise((resolve, reject) => {
    // The body is sent whole: a length, never the client's chunked framing (the two together are malformed).
    const { 'transfer-encoding': _chunked, ...rest } = request.headers;
    const headers = { ...rest, host: upstream.host, 'content-length': String(body.length) };
    // A fresh connection each time (agent: false): moto may close an idle kept-alive socket just as a
    // request is written on it, and that reset would reach the CLI as a failed deploy.
    const out = httpRequest(
      { host: upstream.hostname, port: upstream.port, path: request.url, method: request.method, headers, agent: false },
      (answer) => {
        void readAll(answer).then((answerBody) => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: answerBody }));
      },
    );
    out.on('error', reject);
    out.end(body);
  });

/** GET or PUT an object on moto's S3, as the rehearsal itself: not a call of the deploy identity. */
const motoObject = async (s3: S3Client, bucket: string, key: string, put?: string): Promise<string> => {
  if (put !== undefined) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: put }));
    return put;
  }
  const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await Body?.transformToString('utf8')) ?? '';
};

export const startDeployProxy = async (moto: string, facts: DeployFacts, initial: TemplateAdapter): Promise<DeployProxy> => {
  const upstream = new URL(moto);
  const s3 = new S3Client(motoClientConfig(moto));
  const calls: DeployCall[] = [];
  const templates: DeployProxy['templates'] = [];
  let adapter = initial;
  const CHANGES = new Set(['CreateChangeSet', 'CreateStack', 'UpdateStack']);

  /** A change set's template, adapted for moto and stored beside the original; the request now names the copy. */
  const adaptedBody = async (request: IncomingMessage, body: Buffer): Promise<Buffer> => {
    if (signedService(request) !== 'cloudformation') return body;
    const { operation, params } = operationOf(request, body.toString('utf8'));
    if (!CHANGES.has(operation) || params.TemplateURL === undefined) return body;
    const { bucket, key } = objectOf(params.TemplateURL);
    const original = JSON.parse(await motoObject(s3, bucket, key)) as Record<string, unknown>;
    templates.push({ url: params.TemplateURL, body: original });
    const copyKey = `${key}.moto.json`;
    await motoObject(s3, bucket, copyKey, JSON.stringify(adapter(original)));
    const form = new URLSearchParams(body.toString('utf8'));
    form.set('TemplateURL', params.TemplateURL.replace(key, copyKey));
    return Buffer.from(form.toString(), 'utf8');
  };

  /**
   * moto has no UpdateTerminationProtection (osls sets the stage's terminationProtection after each
   * deploy): the proxy answers it as CloudFormation does. The call is still recorded and checked.
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_UpdateTerminationProtection.html
   */
  const answeredHere = (request: IncomingMessage, body: Buffer): string | undefined => {
    if (signedService(request) !== 'cloudformation') return undefined;
    const { operation, params } = operationOf(request, body.toString('utf8'));
    if (operation !== 'UpdateTerminationProtection') return undefined;
    return `<UpdateTerminationProtectionResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><UpdateTerminationProtectionResult><StackId>${stackArn(params.StackName ?? '', facts)}</StackId></UpdateTerminationProtectionResult><ResponseMetadata><RequestId>rehearsal</RequestId></ResponseMetadata></UpdateTerminationProtectionResponse>`;
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      const body = await readAll(request);
      const described = describeDeployCall(request, body.toString('utf8'), facts);
      const local = answeredHere(request, body);
      if (local !== undefined) {
        for (const call of described) calls.push({ ...call, status: 200 });
        response.writeHead(200, { 'content-type': 'text/xml' });
        response.end(local);
        return;
      }
      try {
        const answer = await forward(upstream, request, await adaptedBody(request, body));
        for (const call of described) calls.push({ ...call, status: answer.status });
        response.writeHead(answer.status, answer.headers);
        response.end(answer.body);
      } catch (error) {
        for (const call of described) calls.push({ ...call, status: 502 });
        response.writeHead(502, { 'content-type': 'text/plain' });
        response.end(String((error as Error).message));
      }
    })();
  });
  // Node closes a kept-alive socket after 5 s idle; the CLI may write its next request on it at that moment
  // (a reset, then "serverless deploy exited 1"). The CLI closes its idle sockets first with this.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 121_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    templates,
    adapt: (next) => {
      adapter = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        s3.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
