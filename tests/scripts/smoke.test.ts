import { LambdaClient } from '@aws-sdk/client-lambda';
import type { SmokeDeps, Subscription } from '../../scripts/smoke';
import { run } from '../../scripts/smoke';
import { fakeAwsClient } from '../helpers/aws';
import { aRelayStatus } from '../helpers/factories';
import { captureIo } from './io';

/**
 * `npm run smoke`, after a deploy: the status answers, the webhook refuses a stranger, ingest and deliver
 * read their secrets without paging anyone, the alarm subscriptions are confirmed; and what it says when not.
 */
const WEBHOOK = 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/threatstack/<token>';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:threatstack-squadcast-relay-prod-AlarmTopic-1A2B';

interface Answers {
  readonly webhook?: number;
  readonly status?: unknown;
  readonly ingest?: unknown;
  readonly deliver?: { readonly payload?: unknown; readonly error?: string };
  readonly subscriptions?: Subscription[];
  readonly settings?: Record<string, string>;
}

const payload = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

const setup = (answers: Answers = {}) => {
  const lambda = fakeAwsClient(LambdaClient, (_name, input) => {
    const fn = String(input.FunctionName);
    if (fn.endsWith('-status'))
      return {
        StatusCode: 200,
        Payload: payload(answers.status ?? { ...aRelayStatus(), alert: { id: 'relay-smoke-check', state: 'not-recorded' } }),
      };
    if (fn.endsWith('-ingest'))
      return { StatusCode: 200, Payload: payload(answers.ingest ?? { statusCode: 403, body: '{"error":"forbidden"}' }) };
    if (answers.deliver?.error !== undefined)
      return {
        StatusCode: 200,
        FunctionError: 'Unhandled',
        Payload: payload({ errorType: 'ConfigError', errorMessage: answers.deliver.error }),
      };
    return { StatusCode: 200, Payload: payload(answers.deliver?.payload ?? { batchItemFailures: [] }) };
  });
  const posted: string[] = [];
  const deps: SmokeDeps = {
    lambda: () => lambda.client,
    outputs: async (stack, region): Promise<Record<string, string>> =>
      stack === 'threatstack-squadcast-relay-prod' && region === 'eu-west-1' ? { WebhookUrl: WEBHOOK, AlarmTopicArn: TOPIC } : {},
    subscriptions: async (topic) =>
      topic === TOPIC ? (answers.subscriptions ?? [{ endpoint: 'secops@example.com', protocol: 'email', arn: `${TOPIC}:1` }]) : [],
    fetch: (async (url: string) => {
      posted.push(url);
      return new Response('{"Message":"User: anonymous is not authorized"}', { status: answers.webhook ?? 403 });
    }) as unknown as typeof fetch,
    region: async () => ({ region: 'eu-west-1', from: 'serverless.yml params, where stage prod is deployed' }),
    settings: () => answers.settings ?? { alarmEmail: 'secops@example.com', alarmTopicArn: '' },
    allowedSourceIps: () => ['52.20.173.142'],
  };
  return { deps, lambda, posted };
};

const invoked = (lambda: ReturnType<typeof setup>['lambda']) =>
  lambda.inputsOf<{ FunctionName: string; Payload: Uint8Array }>('InvokeCommand');

describe('npm run smoke', () => {
  it('passes when every check does, and pages nobody: ingest gets a marked wrong token, deliver no record', async () => {
    const { deps, lambda, posted } = setup();
    const { io, text } = captureIo();
    expect(await run(['--stage', 'prod'], io, deps)).toBe(0);
    expect(invoked(lambda).map((i) => i.FunctionName)).toEqual([
      'threatstack-squadcast-relay-prod-status',
      'threatstack-squadcast-relay-prod-ingest',
      'threatstack-squadcast-relay-prod-deliver',
    ]);
    const [statusCall, ingestCall, deliverCall] = invoked(lambda).map(
      (i) => JSON.parse(Buffer.from(i.Payload).toString('utf8')) as Record<string, unknown>,
    );
    // An id no alert has: the status role's read of one ledger record is tried too.
    expect(statusCall).toEqual({ alertId: 'relay-smoke-check' });
    expect(ingestCall).toMatchObject({
      pathParameters: { token: 'smoke-test-not-the-token' },
      requestContext: { identity: { sourceIp: '52.20.173.142' }, relaySmokeTest: true },
    });
    expect(deliverCall).toEqual({ Records: [] });
    expect(posted).toEqual(['https://abc123.execute-api.eu-west-1.amazonaws.com/prod/threatstack/smoke-test-not-the-token']);
    expect(text()).toContain('ok    the webhook refuses a caller that is not Threat Stack: 403');
    expect(text()).toContain('ok    ingest read the webhook token from SSM');
    expect(text()).toContain('ok    deliver read the Squadcast URL from SSM');
    expect(text()).toContain('ok    every alarm subscription is confirmed (email:secops@example.com)');
    expect(text()).toContain('Stage prod answers as it should.');
  });

  it.each<[string, Answers, string]>([
    [
      'the webhook lets a stranger in',
      { webhook: 200 },
      "the webhook answered 200, not 403, to a call from outside Threat Stack's addresses",
    ],
    [
      'the status answers something else',
      { status: { hello: 'world' } },
      'FAIL  the status function: threatstack-squadcast-relay-prod-status answered an unexpected shape',
    ],
    [
      'the status of an earlier version, which ignores the alert id',
      { status: aRelayStatus() },
      'FAIL  the status function: the status function did not look the alert id up: deploy this version',
    ],
    [
      'ingest cannot read the token',
      { ingest: { statusCode: 503, body: '{}' } },
      'ingest could not read the webhook token (503): create or fix /threatstack-squadcast-relay/prod/webhook-token',
    ],
    [
      'ingest accepts a wrong token',
      { ingest: { statusCode: 200, body: '{}' } },
      'ingest answered 200 to a wrong token from 52.20.173.142, not 403',
    ],
    [
      'deliver cannot read the Squadcast URL',
      { deliver: { error: 'invalid configuration: SQUADCAST_WEBHOOK_URL_PARAMETER: not found in SSM' } },
      'threatstack-squadcast-relay-prod-deliver failed: ConfigError: invalid configuration: SQUADCAST_WEBHOOK_URL_PARAMETER: not found in SSM: create or fix /threatstack-squadcast-relay/prod/squadcast-webhook-url',
    ],
    [
      'an alarm e-mail is unconfirmed',
      { subscriptions: [{ endpoint: 'oncall@example.com', protocol: 'email', arn: 'PendingConfirmation' }] },
      "oncall@example.com has not confirmed the alarm subscription: until then no alarm reaches that address. Each must open the e-mail 'AWS Notification - Subscription Confirmation'",
    ],
  ])('fails when %s, saying what to do, and how to roll back', async (_name, answers, message) => {
    const { deps } = setup(answers);
    const { io, errors } = captureIo();
    expect(await run(['--stage', 'prod'], io, deps)).toBe(1);
    expect(errors()).toContain(message);
    expect(errors()).toContain('deploy the previous commit again');
  });

  it('leaves an alarm topic named by alarmTopicArn to its owner', async () => {
    const { deps } = setup({
      settings: { alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:pager' },
      subscriptions: [{ endpoint: 'x@example.com', protocol: 'email', arn: 'PendingConfirmation' }],
    });
    const { io, text } = captureIo();
    expect(await run(['--stage', 'prod'], io, deps)).toBe(0);
    expect(text()).toContain('alarms go to arn:aws:sns:eu-west-1:123456789012:pager (alarmTopicArn)');
  });

  it('--help prints the usage and does nothing else', async () => {
    const { deps, lambda, posted } = setup();
    const { io, text } = captureIo();
    expect(await run(['--help'], io, deps)).toBe(0);
    expect(text()).toContain('usage: npm run smoke');
    expect(lambda.commands()).toEqual([]);
    expect(posted).toEqual([]);
  });
});
