import type { LambdaClient } from '@aws-sdk/client-lambda';
import * as t from 'io-ts';
import { SeverityCodec } from '../lib/alert/codec';
import { sleep as realSleep } from '../lib/common/backoff';
import { decodeWith, valueOrThrow } from '../lib/common/checked';
import type { RelayStatus } from '../lib/status/relay-status';
import { RelayStatusCodec } from '../lib/status/relay-status';
import { TEST_ALERT_TITLE } from '../lib/test-alert/test-alert';
import { LOCAL_DEFAULTS } from '../local/stack';
import { commandOptions, intOption } from './args';
import type { Io } from './cli';
import { CliError, chooseTarget, functionName, invokeFunction, lambdaFor, localLinks, refuseTogether, runMain } from './cli';
import type { ChosenRegion } from './stage-settings';
import { regionFor } from './stage-settings';
import { readLocalStatus } from './status';

const USAGE = [
  'usage: npm run test-alert -- --stage <stage> [--region <region>] [--severity 1|2|3] [--wait <seconds>]',
  '       npm run test-alert -- --local [--port <port>] [--token <webhook token>] [--severity 1|2|3] [--wait <seconds>]',
  `  Sends one synthetic alert ("${TEST_ALERT_TITLE}", severity 3 unless told)`,
  '  through the alerts queue and the real delivery path, then waits (default 90 s, 0 to skip) until',
  "  the ledger records that alert's incident, saying meanwhile what it waits behind. --local needs the",
  "  local relay's webhook token: --token, else WEBHOOK_TOKEN, else the local default.",
].join('\n');

/** The test-alert function's answer (lib/test-alert/test-alert.ts), decoded. */
const TestAlertResultCodec = t.type({
  sent: t.literal(true),
  alertId: t.string,
  severity: SeverityCodec,
  queue: t.string,
  sentAt: t.string,
  next: t.string,
});

export interface TestAlertCliDeps {
  readonly lambda: (region: string) => LambdaClient;
  readonly fetch: typeof fetch;
  /** --region, else the SDK's usual settings, else the stage's settings in serverless.yml. */
  readonly region?: (flag: string | undefined, stage: string) => Promise<ChosenRegion>;
}

const defaultDeps: TestAlertCliDeps = { lambda: lambdaFor, fetch, region: regionFor };

const POLL_MS = 5_000;

/** While the test alert waits: what it waits behind, in one line (printed when it changes). */
export const describeWait = (status: RelayStatus): string => {
  const others = Math.max(0, status.queue.pending - 1);
  const ceiling = status.squadcastMaxPerMinute;
  switch (status.alert?.state) {
    case 'failed':
      return `Squadcast failed it (${status.alert.lastFailure ?? 'no reason recorded'}); deliver tries it again.`;
    case 'in-flight':
      return 'Being sent to Squadcast.';
    default: {
      const pace =
        ceiling === undefined || others === 0
          ? ''
          : `; deliver sends at most ${ceiling} a minute, about ${Math.ceil(others / ceiling)} min for those`;
      return `Queued, not tried yet: ${others} other alert${others === 1 ? '' : 's'} in the queue${pace}.`;
    }
  }
};

export const run = async (argv: readonly string[], io: Io, deps: TestAlertCliDeps = defaultDeps): Promise<number> => {
  const options = commandOptions(
    argv,
    {
      token: { type: 'string' },
      severity: { type: 'string' },
      wait: { type: 'string' },
    },
    USAGE,
    io,
  );
  if (options === undefined) return 0;
  refuseTogether(options, 'token', 'stage', USAGE);
  const severity = intOption(options.severity, 'severity', 1, 3, 3);
  const waitSeconds = intOption(options.wait, 'wait', 0, 900, 90);
  const event = { severity };
  const target = await chooseTarget(options, io, USAGE, deps.region ?? regionFor);

  let send: () => Promise<unknown>;
  let readStatus: (alertId: string) => Promise<RelayStatus>;
  const port = target.kind === 'local' ? target.port : '';
  if (target.kind === 'local') {
    // The route pages someone, so it takes the webhook token: a web page cannot drive it.
    const token = options.token ?? (process.env.WEBHOOK_TOKEN || LOCAL_DEFAULTS.WEBHOOK_TOKEN);
    send = async () => {
      let response: Response;
      try {
        response = await deps.fetch(`http://127.0.0.1:${port}/local/test-alert/${encodeURIComponent(token)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(event),
        });
      } catch {
        throw new CliError(`could not reach the local relay on 127.0.0.1:${port}: is npm start running?`);
      }
      if (response.status === 403)
        throw new CliError(
          "the local relay refused the token: pass the relay's WEBHOOK_TOKEN (--token, or WEBHOOK_TOKEN in the environment)",
        );
      const body: unknown = await response.json();
      if (!response.ok) throw new CliError(`the local relay answered ${response.status}: ${JSON.stringify(body)}`);
      return body;
    };
    readStatus = (alertId) => readLocalStatus(port, deps.fetch, alertId);
  } else {
    const lambda = deps.lambda(target.region);
    send = () => invokeFunction(lambda, functionName(target.stage, 'testAlert'), event, TestAlertResultCodec);
    readStatus = (alertId) => invokeFunction(lambda, functionName(target.stage, 'status'), { alertId }, RelayStatusCodec);
  }

  const result = valueOrThrow(
    decodeWith(TestAlertResultCodec, await send()),
    () => new CliError('the test-alert function answered an unexpected shape'),
  );
  io.out(`Queued test alert ${result.alertId} (severity ${result.severity}) on ${result.queue} at ${result.sentAt}.`);
  const links = (): void => {
    if (target.kind !== 'local') return;
    io.out('Look next:');
    for (const line of localLinks(port)) io.out(line);
  };
  if (waitSeconds === 0) {
    io.out(result.next);
    links();
    return 0;
  }
  const outcome = await waitForOwnAlert(result.alertId, waitSeconds, readStatus, io);
  if (outcome === 'delivered') {
    io.out(
      target.kind === 'local'
        ? `Find it by its title "${TEST_ALERT_TITLE}" where the local relay sends: its built-in inbox ` +
            `(http://127.0.0.1:${port}/local/incidents), or your Squadcast when SQUADCAST_WEBHOOK_URL is set (then resolve it by hand).`
        : `Find it in Squadcast by its title "${TEST_ALERT_TITLE}" and resolve it by hand.`,
    );
    links();
    return 0;
  }
  if (outcome === 'timed out')
    io.err(
      `Look for correlation_id "${result.alertId}" in the deliver function's logs: ` +
        'a 4xx from Squadcast (wrong URL or key) dead-letters the alert; a 5xx or timeout is retried.',
    );
  return 1;
};

/**
 * Waits until the ledger records this alert id (never another alert's incident), saying what it
 * waits behind whenever that changes. Shared with `npm run smoke -- --test-alert`.
 */
export const waitForOwnAlert = async (
  alertId: string,
  waitSeconds: number,
  readStatus: (alertId: string) => Promise<RelayStatus>,
  io: Io,
): Promise<'delivered' | 'dead-lettered' | 'timed out'> => {
  io.out(`Waiting up to ${waitSeconds} s for Squadcast to accept it...`);
  const sleep = io.sleep ?? realSleep;
  const now = io.now ?? (() => new Date());
  const deadline = now().getTime() + waitSeconds * 1000;
  let said = '';
  for (;;) {
    const status = await readStatus(alertId);
    const alert = status.alert;
    if (alert?.id === alertId && alert.state === 'delivered') {
      io.out(
        `Delivered: Squadcast accepted test alert ${alertId} at ${alert.deliveredAt ?? 'an unrecorded time'}. ` +
          `Status: ${status.active ? 'Receiving alerts' : 'Inactive'}.`,
      );
      return 'delivered';
    }
    if (alert?.id === alertId && alert.state === 'dead-lettered') {
      io.err(`Dead-lettered: ${alert.lastFailure ?? 'no reason recorded'}. npm run dead-letters lists it with the reason.`);
      return 'dead-lettered';
    }
    const wait = describeWait(status);
    if (wait !== said) io.out(wait);
    said = wait;
    if (now().getTime() + POLL_MS > deadline) {
      io.err(
        `Not delivered within ${waitSeconds} s (alerts waiting: ${status.queue.pending}, dead-letter queue: ${status.queue.deadLetter}).`,
      );
      return 'timed out';
    }
    await sleep(POLL_MS);
  }
};

if (require.main === module) runMain((argv, io) => run(argv, io));
