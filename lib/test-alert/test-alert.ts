import { randomUUID } from 'node:crypto';
import * as t from 'io-ts';
import type { Alert, Severity } from '../alert/codec';
import { SeverityCodec } from '../alert/codec';
import { decodeWith, valueOrThrow } from '../common/checked';
import type { Logger } from '../common/logger';
import { queuedAlertMessage } from '../queue/messages';
import type { SingleMessageSender } from '../queue/sqs-send-message';

export const TEST_ALERT_TITLE = 'TEST ALERT from threatstack-squadcast-relay';
export const TEST_ALERT_ID_PREFIX = 'relay-test-';

/**
 * The function's event: `{}` or `{"severity": 1}`. Other keys are ignored, so the Lambda
 * console's default template (`key1`...) sends the default test alert.
 */
export const TestAlertEventCodec = t.partial({ severity: SeverityCodec });

export class InvalidTestAlertEvent extends Error {
  override readonly name = 'InvalidTestAlertEvent';
  constructor(readonly problems: readonly string[]) {
    super(`invalid test-alert event: ${problems.join('; ')} (send {} or {"severity": 1|2|3})`);
  }
}

export interface TestAlertDeps {
  readonly alerts: SingleMessageSender;
  /** The alerts queue's name, shown in the answer. */
  readonly queueName: string;
  /** The deployment stage, named in the alert. */
  readonly stage: string;
  readonly log: Logger;
  readonly now: () => Date;
  readonly newId?: () => string;
}

export interface TestAlertResult {
  readonly sent: true;
  readonly alertId: string;
  readonly title: string;
  readonly severity: Severity;
  readonly queue: string;
  readonly messageId: string;
  readonly sentAt: string;
  readonly next: string;
}

/** A synthetic alert that reads as one everywhere it shows: title, source, organization and an extra row. */
export const buildTestAlert = (severity: Severity, stage: string, now: Date, id: string): Alert =>
  Object.assign(
    {
      id,
      title: TEST_ALERT_TITLE,
      created_at: now.getTime(),
      severity,
      organization_id: 'relay-test',
      organization_name: 'threatstack-squadcast-relay (test)',
      server_or_region: `relay stage ${stage}`,
      source: 'RelayTest',
    },
    // An unknown field is kept and shown as its own row of the incident's description.
    { test_alert: 'Synthetic alert from the relay test-alert function, to check delivery to Squadcast. No action needed: resolve it.' },
  );

/**
 * Puts ONE synthetic alert on the alerts queue, so that it takes the real delivery path
 * (deliver, the ledger, Squadcast) and, once delivered, turns the alert source active.
 * It skips ingest on purpose: the severity filter must not stop a test.
 */
export const sendTestAlert = async (event: unknown, deps: TestAlertDeps): Promise<TestAlertResult> => {
  const decoded = valueOrThrow(decodeWith(TestAlertEventCodec, event ?? {}), (problems) => new InvalidTestAlertEvent(problems));
  const severity = decoded.severity ?? 3;
  const now = deps.now();
  const alert = buildTestAlert(severity, deps.stage, now, `${TEST_ALERT_ID_PREFIX}${(deps.newId ?? randomUUID)()}`);
  const { messageId } = await deps.alerts.send(queuedAlertMessage({ id: alert.id, alert }, now));
  deps.log.info('test alert queued', { alertId: alert.id, severity, messageId });
  return {
    sent: true,
    alertId: alert.id,
    title: alert.title,
    severity,
    queue: deps.queueName,
    messageId,
    sentAt: now.toISOString(),
    next:
      `deliver sends it to Squadcast within seconds: look for "${TEST_ALERT_TITLE}" (event_id ${alert.id}) in Squadcast, ` +
      'then run the status function; resolve the incident by hand.',
  };
};
