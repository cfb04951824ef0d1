import { LambdaClient } from '@aws-sdk/client-lambda';
import type { SmokeDeps } from '../../scripts/smoke';
import { run } from '../../scripts/smoke';
import { fakeAwsClient } from '../helpers/aws';
import { aRelayStatus } from '../helpers/factories';
import { captureIo } from './io';

/** `npm run smoke`, after a deploy: the status answers, the webhook refuses a stranger, and what it says when not. */
const WEBHOOK = 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/threatstack/<token>';

const lambdaAnswering = (payload: unknown) =>
  fakeAwsClient(LambdaClient, () => ({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(payload)) }));

const setup = (webhookStatus: number, statusPayload: unknown = aRelayStatus()) => {
  const lambda = lambdaAnswering(statusPayload);
  const posted: string[] = [];
  const deps: SmokeDeps = {
    lambda: () => lambda.client,
    outputs: async (stack, region) => {
      const outputs: Record<string, string> = {};
      if (stack === 'threatstack-squadcast-relay-prod' && region === 'eu-west-1') outputs.WebhookUrl = WEBHOOK;
      return outputs;
    },
    fetch: (async (url: string) => {
      posted.push(url);
      return new Response('{"Message":"User: anonymous is not authorized"}', { status: webhookStatus });
    }) as unknown as typeof fetch,
    region: async () => ({ region: 'eu-west-1', from: 'serverless.yml params, where stage prod is deployed' }),
  };
  return { deps, lambda, posted };
};

describe('npm run smoke', () => {
  it('passes when the status answers and the webhook refuses a caller outside Threat Stack with 403', async () => {
    const { deps, lambda, posted } = setup(403);
    const { io, text } = captureIo();
    expect(await run(['--stage', 'prod'], io, deps)).toBe(0);
    expect(lambda.inputsOf<{ FunctionName: string }>('InvokeCommand').map((i) => i.FunctionName)).toEqual([
      'threatstack-squadcast-relay-prod-status',
    ]);
    expect(posted).toEqual(['https://abc123.execute-api.eu-west-1.amazonaws.com/prod/threatstack/smoke-test-not-the-token']);
    expect(text()).toContain('Smoke test of stage prod in eu-west-1 (serverless.yml params, where stage prod is deployed).');
    expect(text()).toContain('ok    the webhook refuses a caller that is not Threat Stack: 403');
    expect(text()).toContain('Stage prod answers as it should.');
  });

  it('fails, saying what to look at and how to roll back, when the webhook lets a stranger in', async () => {
    const { deps } = setup(200);
    const { io, errors } = captureIo();
    expect(await run(['--stage', 'prod'], io, deps)).toBe(1);
    expect(errors()).toContain("the webhook answered 200, not 403, to a call from outside Threat Stack's addresses");
    expect(errors()).toContain('deploy the previous commit again');
  });

  it('fails when the status function answers something else than a status', async () => {
    const { deps } = setup(403, { hello: 'world' });
    const { io, errors } = captureIo();
    expect(await run(['--stage', 'prod'], io, deps)).toBe(1);
    expect(errors()).toContain('FAIL  the status function: threatstack-squadcast-relay-prod-status answered an unexpected shape');
  });

  it('--help prints the usage and does nothing else', async () => {
    const { deps, lambda, posted } = setup(403);
    const { io, text } = captureIo();
    expect(await run(['--help'], io, deps)).toBe(0);
    expect(text()).toContain('usage: npm run smoke');
    expect(lambda.commands()).toEqual([]);
    expect(posted).toEqual([]);
  });
});
