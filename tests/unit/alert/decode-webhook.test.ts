import type { DecodedWebhook } from '../../../lib/alert/decode-webhook';
import { decodeWebhookBody } from '../../../lib/alert/decode-webhook';
import type { Checked } from '../../../lib/common/checked';
import bareAlert from '../../fixtures/webhook-bare-alert.json';
import batch from '../../fixtures/webhook-batch.json';
import topLevelArray from '../../fixtures/webhook-top-level-array.json';
import { aRawAlert, SENTINEL } from '../../helpers/factories';

const accepted = (result: Checked<DecodedWebhook>): DecodedWebhook => {
  if (result.kind === 'invalid') throw new Error(`expected a decoded webhook, got problems: ${result.problems.join('; ')}`);
  return result.value;
};

describe('decodeWebhookBody: accepted shapes', () => {
  it('decodes the batched shape {"alerts": [...]}', () => {
    const result = accepted(decodeWebhookBody(structuredClone(batch)));
    expect(result.rejected).toEqual([]);
    expect(result.alerts.map((a) => [a.id, a.severity])).toEqual([
      ['7c1e2f30-1a2b-11ee-8c90-0242ac120002', 1],
      ['5a1b2c3d4e5f60718293a4b5', 2],
      ['8d2f3a40-1a2b-11ee-8c90-0242ac120002', 3],
    ]);
    expect(result.alerts[0]?.organization_name).toBe('Example Corp');
    expect(result.alerts[1]?.title).toBe('Host:  sudo to root by unexpected user');
  });

  it('decodes a bare alert with numeric strings and organization_Name (the older one-call-per-alert shape)', () => {
    const result = accepted(decodeWebhookBody(structuredClone(bareAlert)));
    expect(result.rejected).toEqual([]);
    expect(result.alerts).toEqual([
      {
        id: '56fd4f3e8b2a1c0012345678',
        title: 'Host: Unauthorized  shell spawned',
        created_at: 1_459_447_024_000,
        severity: 3,
        organization_id: '56f2a1b0c3d4e5f607182930',
        organization_Name: 'Legacy Org',
        server_or_region: 'db-2.example.internal',
        source: 'Host',
      },
    ]);
  });

  it('decodes a top-level array of alerts, unknown fields kept', () => {
    const result = accepted(decodeWebhookBody(structuredClone(topLevelArray)));
    expect(result.alerts).toHaveLength(1);
    expect(result.alerts[0]).toEqual(
      expect.objectContaining({ id: '9e3f4b50-1a2b-11ee-8c90-0242ac120002', rule_hint: 'not documented, must be kept' }),
    );
  });

  it.each([
    ['{"alerts": []}', { alerts: [] }],
    ['[]', []],
  ])('decodes %s as zero alerts', (_name, body) => {
    expect(accepted(decodeWebhookBody(body))).toEqual({ alerts: [], rejected: [] });
  });

  it('keeps unknown fields of a batched alert and of the batch wrapper', () => {
    const result = accepted(decodeWebhookBody({ alerts: [aRawAlert({ extra: { deep: true } })], page: 1 }));
    expect(result.alerts[0]).toEqual(expect.objectContaining({ extra: { deep: true } }));
  });

  it('decodes numeric strings inside a batch', () => {
    const result = accepted(decodeWebhookBody({ alerts: [aRawAlert({ severity: '3', created_at: '1459447024000' })] }));
    expect(result.alerts[0]).toEqual(expect.objectContaining({ severity: 3, created_at: 1_459_447_024_000 }));
  });

  it.each(['organization_name', 'organization_Name'])('accepts %s in a batch', (key) => {
    const result = accepted(decodeWebhookBody({ alerts: [aRawAlert({ [key]: 'Org' })] }));
    expect(result.alerts[0]).toEqual(expect.objectContaining({ [key]: 'Org' }));
  });
});

describe('decodeWebhookBody: a batch keeps its valid alerts and rejects the others one by one', () => {
  it('splits a mixed batch, with the batch position and raw value of each rejected element', () => {
    const bad = aRawAlert({ severity: 4 });
    const result = accepted(decodeWebhookBody({ alerts: [aRawAlert({ id: 'good-0' }), bad, 'not an alert', aRawAlert({ id: 'good-3' })] }));
    expect(result.alerts.map((a) => a.id)).toEqual(['good-0', 'good-3']);
    expect(result.rejected).toEqual([
      { index: 1, problems: ['alerts[1].severity: expected Severity(1|2|3)'], raw: bad },
      { index: 2, problems: ['alerts[2]: expected object'], raw: 'not an alert' },
    ]);
  });

  it('names the path from the root in a top-level array', () => {
    const result = accepted(decodeWebhookBody([aRawAlert(), aRawAlert({ created_at: -1 })]));
    expect(result.rejected.map((r) => [r.index, r.problems])).toEqual([[1, ['[1].created_at: expected EpochMillis']]]);
  });
});

type Row = readonly [name: string, body: unknown, problems: readonly string[]];

/** Every invalid input carries SENTINEL somewhere in it: no problem may quote it. */
const invalidAlerts: readonly Row[] = [
  ['severity 0', { severity: 0, title: SENTINEL }, ['severity: expected Severity(1|2|3)']],
  ['severity 4', { severity: 4, title: SENTINEL }, ['severity: expected Severity(1|2|3)']],
  ['severity "high"', { severity: 'high', title: SENTINEL }, ['severity: expected Severity(1|2|3)']],
  ['severity 1.5', { severity: 1.5, title: SENTINEL }, ['severity: expected Severity(1|2|3)']],
  ['severity as the sentinel', { severity: SENTINEL }, ['severity: expected Severity(1|2|3)']],
  ['created_at negative', { created_at: -1, title: SENTINEL }, ['created_at: expected EpochMillis']],
  ['created_at float', { created_at: 1_700_000_000_000.5, title: SENTINEL }, ['created_at: expected EpochMillis']],
  ['created_at huge', { created_at: 1e17, title: SENTINEL }, ['created_at: expected EpochMillis']],
  ['created_at as the sentinel', { created_at: SENTINEL }, ['created_at: expected EpochMillis']],
  ['id missing', { id: undefined, title: SENTINEL }, ['id: expected NonBlankString']],
  ['id blank', { id: '   ', title: SENTINEL }, ['id: expected NonBlankString']],
  ['id a number', { id: 1234, title: SENTINEL }, ['id: expected NonBlankString']],
  ['title missing', { title: undefined, source: SENTINEL }, ['title: expected string']],
  ['title an object', { title: { text: SENTINEL } }, ['title: expected string']],
  ['organization_id missing', { organization_id: undefined, title: SENTINEL }, ['organization_id: expected string']],
  ['server_or_region null', { server_or_region: null, title: SENTINEL }, ['server_or_region: expected string']],
  ['source a number', { source: 7, title: SENTINEL }, ['source: expected string']],
  ['organization_name a number', { organization_name: 1, title: SENTINEL }, ['organization_name: expected string']],
  ['organization_Name an array', { organization_Name: [SENTINEL] }, ['organization_Name: expected string']],
  [
    'several fields wrong',
    { severity: SENTINEL, created_at: SENTINEL, id: '' },
    ['id: expected NonBlankString', 'created_at: expected EpochMillis', 'severity: expected Severity(1|2|3)'],
  ],
];

describe('decodeWebhookBody: invalid alerts give field paths, never values', () => {
  it.each(invalidAlerts)('bare alert, %s', (_name, overrides, problems) => {
    const result = decodeWebhookBody(aRawAlert(overrides as Record<string, unknown>));
    expect(result).toEqual({ kind: 'invalid', problems });
    expect(JSON.stringify(result)).not.toContain(SENTINEL);
  });

  it.each(invalidAlerts)('batched alert, %s', (_name, overrides, problems) => {
    const result = accepted(decodeWebhookBody({ alerts: [aRawAlert(), aRawAlert(overrides as Record<string, unknown>)] }));
    expect(result.alerts).toHaveLength(1);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]?.problems).toEqual(problems.map((p) => `alerts[1].${p}`));
    expect(JSON.stringify(result.rejected[0]?.problems)).not.toContain(SENTINEL);
  });
});

describe('decodeWebhookBody: bodies with no usable shape fail as a whole', () => {
  it.each<Row>([
    ['alerts is a string', { alerts: SENTINEL }, ['alerts: expected Array<unknown>']],
    ['alerts is an object', { alerts: { 0: SENTINEL } }, ['alerts: expected Array<unknown>']],
    ['alerts is null', { alerts: null, note: SENTINEL }, ['alerts: expected Array<unknown>']],
    ['a string', SENTINEL, ['(root): expected an object {"alerts": [...]} or a single alert object']],
    ['a number', 42, ['(root): expected an object {"alerts": [...]} or a single alert object']],
    ['null', null, ['(root): expected an object {"alerts": [...]} or a single alert object']],
    ['true', true, ['(root): expected an object {"alerts": [...]} or a single alert object']],
  ])('%s', (_name, body, problems) => {
    const result = decodeWebhookBody(body);
    expect(result).toEqual({ kind: 'invalid', problems });
    expect(JSON.stringify(result)).not.toContain(SENTINEL);
  });

  it('an object that is neither a batch nor an alert lists the missing alert fields', () => {
    const result = decodeWebhookBody({ hello: SENTINEL });
    if (result.kind === 'valid') throw new Error('expected a failure');
    expect(result.problems).toEqual([
      'id: expected NonBlankString',
      'title: expected string',
      'created_at: expected EpochMillis',
      'severity: expected Severity(1|2|3)',
      'organization_id: expected string',
      'server_or_region: expected string',
      'source: expected string',
    ]);
    expect(JSON.stringify(result)).not.toContain(SENTINEL);
  });
});
