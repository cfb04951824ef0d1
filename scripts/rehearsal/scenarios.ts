import type { Message } from '@aws-sdk/client-sqs';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteParameterCommand } from '@aws-sdk/client-ssm';
import type { Finding } from './checks';
import type { Datapoint } from './emf';
import { parseEmf } from './emf';
import type { RehearsalEnvironment, ScenarioOptions } from './environment';
import { alert, finding, MAPPING, OTHER_ADDRESS, readEvent, rehearsalEnvironment, THREAT_STACK_ADDRESS } from './environment';
import type { AwsCall } from './recording-proxy';
import type { RehearsedStack } from './stack';
import { motoClientConfig } from './stack';

/**
 * The rehearsal's scenarios, in groups: what ingest answers, what deliver does with what ingest
 * queued (driven as the event source mapping drives it), what the readers see, and what each
 * function does when its secret parameter is gone. ./environment.ts sets the stage for them.
 */

export interface ScenarioRun {
  readonly findings: Finding[];
  readonly calls: AwsCall[];
  readonly printed: Datapoint[];
}

/** The alerts ingest queues first: Squadcast accepts the first, fails the second, refuses the third. */
const BATCH = [alert('rehearsal-ok-1'), alert('rehearsal-503-1'), alert('rehearsal-400-1')];

const ingestScenarios = async (env: RehearsalEnvironment) => {
  const { expectStatus, webhookEvent, token } = env;
  const ingest = await env.start('ingest');
  await expectStatus(
    ingest,
    'ingest: a batch from a Threat Stack address',
    webhookEvent(JSON.stringify({ alerts: BATCH })),
    200,
    (j) => j.accepted === 3,
  );
  const sample = readEvent('sample-batch.json') as { alerts: Array<Record<string, unknown>> };
  const samples = sample.alerts.map((a, i) => ({ ...a, id: `rehearsal-sample-${i}` }));
  await expectStatus(
    ingest,
    'ingest: events/sample-batch.json',
    webhookEvent(JSON.stringify({ alerts: samples })),
    200,
    (j) => j.accepted === samples.length,
  );
  await expectStatus(
    ingest,
    'ingest: another address is refused',
    webhookEvent(JSON.stringify({ alerts: [alert('x')] }), OTHER_ADDRESS),
    403,
  );
  await expectStatus(
    ingest,
    'ingest: a wrong token is refused',
    webhookEvent(JSON.stringify({ alerts: [alert('x')] }), THREAT_STACK_ADDRESS, {}, `${token}-wrong`),
    403,
  );
  await expectStatus(
    ingest,
    'ingest: a malformed alert pages degraded; a non-object is dead-lettered',
    webhookEvent(JSON.stringify({ alerts: [{ id: 'rehearsal-malformed-1', severity: 'urgent' }, 'not an alert'] })),
    200,
    (j) => j.degraded === 1 && j.rejected === 1,
  );
  await expectStatus(ingest, 'ingest: a body that is not JSON', webhookEvent('not json'), 400);
  await expectStatus(ingest, 'ingest: JSON with no alert', webhookEvent('{"note":"x"}'), 400);
  await expectStatus(ingest, 'ingest: a compressed body', webhookEvent('{}', THREAT_STACK_ADDRESS, { 'Content-Encoding': 'gzip' }), 415);
  await expectStatus(ingest, 'ingest: a body over 4 MiB', webhookEvent(`{"alerts":[${'{},'.repeat(1_500_000)}{}]}`), 413);
  const consoleEvent = readEvent('ingest.json');
  await expectStatus(ingest, 'ingest: events/ingest.json as it stands (placeholder token)', consoleEvent, 403);
  await expectStatus(
    ingest,
    "ingest: events/ingest.json with the stage's token",
    JSON.parse(JSON.stringify(consoleEvent).replaceAll('REPLACE-WITH-THE-WEBHOOK-TOKEN', token)),
    200,
    (j) => j.accepted === 1,
  );
  const testAlert = await env.start('testAlert');
  for (const file of ['test-alert.json', 'test-alert-high.json']) {
    const { result, error } = await testAlert.invoke<{ sent?: boolean; severity?: number }>(readEvent(file));
    env.findings.push(finding(`testAlert: events/${file}`, result?.sent === true, error ? `threw ${error.name}` : JSON.stringify(result)));
  }
  return ingest;
};

/** The SQS event Lambda's event source mapping builds from received messages. */
const sqsEvent = (messages: readonly Message[], stack: RehearsedStack) => ({
  Records: messages.map((m) => ({
    messageId: m.MessageId,
    receiptHandle: m.ReceiptHandle,
    body: m.Body,
    attributes: m.Attributes ?? {},
    messageAttributes: {},
    md5OfBody: m.MD5OfBody,
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${stack.facts.region}:${stack.facts.account}:${(stack.outputs.AlertsQueueUrl ?? '').split('/').pop()}`,
    awsRegion: stack.facts.region,
  })),
});

/** The queues as the event source mapping (on deliver's role) and the rehearsal itself (straight to moto) see them. */
const queueViews = (env: RehearsalEnvironment) => {
  const { moto, stack } = env.options;
  const config = motoClientConfig(moto);
  const mapping = new SQSClient({ ...config, endpoint: env.proxies[MAPPING]?.url ?? '' });
  const observer = new SQSClient(config);
  env.options.onCleanup(() => {
    mapping.destroy();
    observer.destroy();
  });
  const alertsQueue = `${env.proxies[MAPPING]?.url ?? ''}${new URL(stack.outputs.AlertsQueueUrl ?? '').pathname}`;
  const deadLetterQueue = `${moto}${new URL(stack.outputs.DeadLetterQueueUrl ?? '').pathname}`;
  const deadLetters = async (): Promise<number> =>
    Number(
      (await observer.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterQueue, AttributeNames: ['ApproximateNumberOfMessages'] })))
        .Attributes?.ApproximateNumberOfMessages ?? 0,
    );
  return { mapping, alertsQueue, deadLetters };
};

/** deliver, driven as the event source mapping drives it, through deliver's role; returns how many dead letters it left. */
const deliverScenarios = async (env: RehearsalEnvironment, ingest: Awaited<ReturnType<typeof ingestScenarios>>) => {
  const { stack } = env.options;
  const deliver = await env.start('deliver');
  const { mapping, alertsQueue, deadLetters } = queueViews(env);
  const drain = async (): Promise<{ invocations: number; failed: number }> => {
    let invocations = 0;
    let failed = 0;
    for (;;) {
      const { Messages = [] } = await mapping.send(
        new ReceiveMessageCommand({
          QueueUrl: alertsQueue,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) return { invocations, failed };
      invocations += 1;
      const { result } = await deliver.invoke<{ batchItemFailures: Array<{ itemIdentifier: string }> }>(sqsEvent(Messages, stack));
      const failures = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      failed += failures.size;
      const done = Messages.filter((m) => !failures.has(m.MessageId ?? ''));
      if (done.length > 0)
        await mapping.send(
          new DeleteMessageBatchCommand({
            QueueUrl: alertsQueue,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
    }
  };
  const { findings } = env;
  const drained = await drain();
  const posted = (id: string): number => env.squadcast.requests.filter((r) => r.eventId === id).length;
  findings.push(finding('deliver: Squadcast 2xx', posted('rehearsal-ok-1') === 1, `POSTed ${posted('rehearsal-ok-1')} time(s)`));
  findings.push(
    finding(
      'deliver: Squadcast 503 is put back to retry',
      posted('rehearsal-503-1') === 1 && drained.failed >= 1,
      `${drained.failed} record(s) in batchItemFailures`,
    ),
  );
  const letters = await deadLetters();
  findings.push(
    finding('deliver: Squadcast 400 is dead-lettered at once', letters >= 2, `${letters} dead letters (the 400 and ingest's non-object)`),
  );
  await ingest.invoke(env.webhookEvent(JSON.stringify({ alerts: [BATCH[0]] })));
  await drain();
  findings.push(finding('deliver: the same alert again is not sent twice', posted('rehearsal-ok-1') === 1, 'logged as already delivered'));
  const fromConsole = await deliver.invoke<{ batchItemFailures: unknown[] }>(readEvent('deliver.json'));
  findings.push(
    finding(
      'deliver: events/deliver.json',
      Array.isArray(fromConsole.result?.batchItemFailures),
      JSON.stringify(fromConsole.result ?? fromConsole.error),
    ),
  );
  return { letters, deadLetters };
};

/** The status (the 30-day status, one alert's record) and the dead-letter watch, which must leave every letter visible. */
const readerScenarios = async (env: RehearsalEnvironment, letters: number, deadLetters: () => Promise<number>) => {
  const { findings } = env;
  const status = await env.start('status');
  const answer = await status.invoke<{ active?: boolean; incidentsLast30Days?: number; queue?: { deadLetter?: number } }>(
    readEvent('status.json'),
  );
  findings.push(
    finding(
      'status: events/status.json',
      answer.result?.active === true && (answer.result.incidentsLast30Days ?? 0) >= 1,
      JSON.stringify({
        active: answer.result?.active,
        incidentsLast30Days: answer.result?.incidentsLast30Days,
        queue: answer.result?.queue,
      }),
    ),
  );
  // One alert's record, as test-alert and smoke ask for it: the status role's read of one ledger item.
  const asked = await status.invoke<{ alert?: { id?: string; state?: string } }>({ alertId: 'rehearsal-sample-0' });
  findings.push(
    finding(
      'status: {"alertId": ...} reads that alert\'s record',
      asked.result?.alert?.state === 'delivered',
      JSON.stringify(asked.result?.alert ?? asked.error),
    ),
  );
  const watch = await env.start('deadLetterWatch');
  const watched = await watch.invoke<{ deadLetters?: number; oldestExpiresInHours?: number }>(readEvent('dead-letter-watch.json'));
  findings.push(
    finding(
      'deadLetterWatch: events/dead-letter-watch.json',
      (watched.result?.deadLetters ?? 0) >= 2 && (watched.result?.oldestExpiresInHours ?? 0) > 300,
      JSON.stringify(watched.result ?? watched.error),
    ),
  );
  const after = await deadLetters();
  findings.push(finding('deadLetterWatch: every dead letter is visible again after the look', after === letters, `${after} visible`));
};

/** Missing SSM parameters: a new container (an empty cache) of each function meets them gone. */
const missingSecretScenarios = async (env: RehearsalEnvironment) => {
  await env.ssm.send(new DeleteParameterCommand({ Name: `${env.prefix}/squadcast-webhook-url` }));
  await env.ssm.send(new DeleteParameterCommand({ Name: `${env.prefix}/webhook-token` }));
  const coldDeliver = await env.start('deliver');
  const withoutUrl = await coldDeliver.invoke(readEvent('deliver.json'));
  env.findings.push(
    finding('deliver: the Squadcast URL parameter is gone', withoutUrl.error !== undefined, withoutUrl.error?.message ?? 'did not fail'),
  );
  const coldIngest = await env.start('ingest');
  await env.expectStatus(
    coldIngest,
    'ingest: the webhook token parameter is gone (a resend is wanted)',
    env.webhookEvent(JSON.stringify({ alerts: [alert('x')] })),
    503,
  );
};

/**
 * The packaged bundles run against the stack `serverless deploy` made in moto: the scenario groups in
 * order, and every metric line the functions printed (the alarms' metrics are checked against them).
 */
export const runScenarios = async (options: ScenarioOptions): Promise<ScenarioRun> => {
  const env = await rehearsalEnvironment(options);
  const ingest = await ingestScenarios(env);
  const { letters, deadLetters } = await deliverScenarios(env, ingest);
  await readerScenarios(env, letters, deadLetters);
  await missingSecretScenarios(env);
  const printed = env.containers.flatMap((container) =>
    container
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{"_aws"'))
      .flatMap((line) => parseEmf(line)),
  );
  return { findings: env.findings, calls: env.calls, printed };
};
