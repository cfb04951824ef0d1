import type { DecodedWebhook } from '../../../lib/alert/decode-webhook';
import { decodeWebhookBody, MAX_ALERT_FIELDS } from '../../../lib/alert/decode-webhook';
import { ALERT_FIELDS, isDegraded } from '../../../lib/alert/read-alert';
import type { Checked } from '../../../lib/common/checked';
import bareAlert from '../../fixtures/webhook-bare-alert.json';
import batch from '../../fixtures/webhook-batch.json';
import topLevelArray from '../../fixtures/webhook-top-level-array.json';
import { aRawAlert, SENTINEL } from '../../helpers/factories';

const AT = new Date('2023-11-14T22:13:21.000Z');

const accepted = (result: Checked<DecodedWebhook>): DecodedWebhook => {
  if (result.kind === 'invalid') throw new Error(`expected a decoded webhook, got problems: ${result.problems.join('; ')}`);
  return result.value;
};
const decode = (body: unknown): Checked<DecodedWebhook> => decodeWebhookBody(body, AT);

describe('decodeWebhookBody: accepted shapes', () => {
  it('decodes the batched shape {"alerts": [...]}', () => {
    const result = accepted(decode(structuredClone(batch)));
    expect(result.rejected).toEqual([]);
    expect(result.alerts.map(({ read }) => [read.id, read.severity, isDegraded(read)])).toEqual([
      ['7c1e2f30-1a2b-11ee-8c90-0242ac120002', 1, false],
      ['5a1b2c3d4e5f60718293a4b5', 2, false],
      ['8d2f3a40-1a2b-11ee-8c90-0242ac120002', 3, false],
    ]);
    expect(result.alerts.map(({ path }) => path)).toEqual(['alerts[0]', 'alerts[1]', 'alerts[2]']);
    expect(result.alerts[0]?.read.organizationName).toBe('Example Corp');
    expect(result.alerts[1]?.read.title).toBe('Host:  sudo to root by unexpected user');
  });

  it('decodes a bare alert with numeric strings and organization_Name (the older one-call-per-alert shape), keeping it as sent', () => {
    const result = accepted(decode(structuredClone(bareAlert)));
    expect(result.rejected).toEqual([]);
    const [alert] = result.alerts;
    expect(alert?.fields).toEqual(bareAlert);
    expect(alert?.read).toMatchObject({
      id: '56fd4f3e8b2a1c0012345678',
      severity: 3,
      createdAt: { kind: 'milliseconds', at: new Date(1_459_447_024_000) },
      organizationName: 'Legacy Org',
      unreadable: [],
      notes: [],
    });
  });

  it('decodes a top-level array of alerts, unknown fields kept', () => {
    const result = accepted(decode(structuredClone(topLevelArray)));
    expect(result.alerts).toHaveLength(1);
    expect(result.alerts[0]?.path).toBe('[0]');
    expect(result.alerts[0]?.fields).toEqual(
      expect.objectContaining({ id: '9e3f4b50-1a2b-11ee-8c90-0242ac120002', rule_hint: 'not documented, must be kept' }),
    );
  });

  it.each([
    ['{"alerts": []}', { alerts: [] }],
    ['[]', []],
  ])('decodes %s as zero alerts', (_name, body) => {
    expect(accepted(decode(body))).toEqual({ alerts: [], rejected: [] });
  });

  it('keeps unknown fields of a batched alert', () => {
    const result = accepted(decode({ alerts: [aRawAlert({ extra: { deep: true } })], page: 1 }));
    expect(result.alerts[0]?.fields).toEqual(expect.objectContaining({ extra: { deep: true } }));
  });
});

describe('decodeWebhookBody: every object in a batch is an alert; only what cannot be one is rejected', () => {
  it('reads a malformed object as a degraded alert and rejects the element that is not an object', () => {
    const malformed = aRawAlert({ severity: 4 });
    const result = accepted(decode({ alerts: [aRawAlert({ id: 'good-0' }), malformed, 'not an alert', aRawAlert({ id: 'good-3' })] }));
    expect(result.alerts.map(({ read }) => [read.id, isDegraded(read)])).toEqual([
      ['good-0', false],
      [malformed.id, true],
      ['good-3', false],
    ]);
    expect(result.alerts[1]?.read.unreadable).toEqual([{ field: 'severity', problem: 'expected 1, 2 or 3' }]);
    expect(result.rejected).toEqual([{ index: 2, problems: ['alerts[2]: expected object'], raw: 'not an alert' }]);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a number', 42],
    ['a string', SENTINEL],
    ['an array', [aRawAlert()]],
  ])('rejects %s with its path from the root, never its value', (_name, element) => {
    const result = accepted(decode([aRawAlert(), element]));
    expect(result.alerts).toHaveLength(1);
    expect(result.rejected.map((r) => [r.index, r.problems])).toEqual([[1, ['[1]: expected object']]]);
    expect(JSON.stringify(result.rejected[0]?.problems)).not.toContain(SENTINEL);
  });

  it('reads an empty object as an alert with every field unreadable and a derived id', () => {
    const [alert] = accepted(decode({ alerts: [{}] })).alerts;
    expect(alert?.read.id).toMatch(/^relay-derived-[0-9a-f]{32}$/);
    // Every documented field but the two optional spellings of the organization's name.
    expect(alert?.read.unreadable.map((issue) => issue.field)).toEqual(
      ALERT_FIELDS.filter((field) => !field.startsWith('organization_N') && field !== 'organization_name'),
    );
  });

  it('cuts an alert nested deeper than the cap and says which field was cut', () => {
    let deep: unknown = SENTINEL;
    for (let i = 0; i < 20_000; i += 1) deep = [deep];
    const [alert] = accepted(decode({ alerts: [aRawAlert({ id: 'deep-1', evidence: deep })] })).alerts;
    expect(alert?.read.id).toBe('deep-1');
    expect(alert?.notes).toEqual([{ field: 'evidence', problem: 'nested deeper than 32 levels: cut at that depth' }]);
    expect(alert?.read.notes).toEqual(alert?.notes);
    expect(JSON.stringify(alert?.fields)).toContain('…(nested too deep)');
    expect(JSON.stringify(alert?.fields)).not.toContain(SENTINEL);
  });

  it('derives the same id for the same content whatever its key order', () => {
    const [first] = accepted(decode({ alerts: [{ title: 't', severity: 9, extra: { b: 1, a: 2 } }] })).alerts;
    const [second] = accepted(decode({ alerts: [{ extra: { a: 2, b: 1 }, severity: 9, title: 't' }] })).alerts;
    expect(first?.read.id).toMatch(/^relay-derived-/);
    expect(second?.read.id).toBe(first?.read.id);
  });
});

describe('decodeWebhookBody: a bare object is an alert when it has any documented field', () => {
  it.each<[string, Record<string, unknown>]>([
    ['severity 4', { severity: 4, title: SENTINEL }],
    ['created_at as an ISO string', { created_at: '2017-12-06T16:12:41.417Z' }],
    ['created_at as a decimal string', { created_at: '1459447024000.0' }],
    ['server_or_region null', { server_or_region: null }],
    ['no title', { title: undefined }],
    ['no id', { id: undefined }],
  ])('%s: one degraded alert', (_name, overrides) => {
    const { alerts } = accepted(decode(aRawAlert(overrides)));
    expect(alerts.map(({ path, read }) => [path, isDegraded(read)])).toEqual([['', true]]);
  });

  it('reads a bare alert nested 100 000 deep, cut', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i += 1) deep = [deep];
    const result = accepted(decode({ id: 'deep-bare', x: deep }));
    expect(result.alerts[0]?.notes).toEqual([{ field: 'x', problem: 'nested deeper than 32 levels: cut at that depth' }]);
  });
});

describe('decodeWebhookBody: the work per alert is bounded', () => {
  const wide = (extra: number): Record<string, unknown> => {
    const alert: Record<string, unknown> = {};
    for (let i = 0; i < extra; i += 1) alert[`extra_${i}`] = i;
    // The documented fields come last: they are kept wherever they are.
    return { ...alert, ...aRawAlert({ id: 'wide-1' }) };
  };
  const documentedCount = Object.keys(aRawAlert()).length;

  it(`keeps an alert of exactly MAX_ALERT_FIELDS fields as it is`, () => {
    const [alert] = accepted(decode({ alerts: [wide(MAX_ALERT_FIELDS - documentedCount)] })).alerts;
    expect(Object.keys(alert?.fields ?? {})).toHaveLength(MAX_ALERT_FIELDS);
    expect(alert?.notes).toEqual([]);
    expect(isDegraded(alert?.read ?? ({} as never))).toBe(false);
  });

  it('keeps the documented fields and the first others of a wider alert, and says how many were left out', () => {
    const [alert] = accepted(decode({ alerts: [wide(MAX_ALERT_FIELDS + 500)] })).alerts;
    const kept = Object.keys(alert?.fields ?? {});
    expect(kept).toHaveLength(MAX_ALERT_FIELDS);
    expect(kept).toEqual(expect.arrayContaining(Object.keys(aRawAlert())));
    expect(kept).toContain('extra_0');
    expect(kept).not.toContain(`extra_${MAX_ALERT_FIELDS + 499}`);
    expect(alert?.read).toMatchObject({ id: 'wide-1', severity: aRawAlert().severity });
    expect(alert?.notes).toEqual([
      { field: '(other fields)', problem: `${500 + documentedCount} fields left out: an alert keeps at most ${MAX_ALERT_FIELDS}` },
    ]);
    expect(isDegraded(alert?.read ?? ({} as never))).toBe(true);
  });
});

describe('decodeWebhookBody: every body that carries an alert pages', () => {
  it('{"alerts": {one alert}} is that alert', () => {
    const { alerts, rejected } = accepted(decode({ alerts: aRawAlert({ id: 'wrapped-1' }) }));
    expect(rejected).toEqual([]);
    expect(alerts.map(({ path, read }) => [path, read.id, isDegraded(read)])).toEqual([['alerts', 'wrapped-1', false]]);
  });

  it.each<[string, unknown, string]>([
    ['a string', 'oops', 'a string'],
    ['a number', 7, 'a number'],
    ['null', null, 'null'],
    ['an empty list', [], 'an empty list'],
    ['an object that is not an alert', { page: 2 }, 'a object'],
  ])('an alert whose alerts field is %s is that alert, degraded, its incident naming the field', (_name, odd, kind) => {
    const { alerts } = accepted(decode({ ...aRawAlert({ id: 'odd-1', severity: 1 }), alerts: odd }));
    expect(alerts.map(({ path, read }) => [path, read.id, read.severity, isDegraded(read)])).toEqual([['', 'odd-1', 1, true]]);
    expect(alerts[0]?.read.notes).toEqual([
      { field: 'alerts', problem: `${kind}, not a list of alerts: the body itself is read as the alert` },
    ]);
    expect(alerts[0]?.fields.alerts).toEqual(odd);
  });

  it('an alert with a list beside its own fields pages as itself, and each element of the list on its own', () => {
    const { alerts, rejected } = accepted(decode({ ...aRawAlert({ id: 'outer', severity: 1 }), alerts: [aRawAlert({ id: 'inner' })] }));
    expect(alerts.map(({ path, read }) => [path, read.id, isDegraded(read)])).toEqual([
      ['', 'outer', true],
      ['alerts[0]', 'inner', false],
    ]);
    expect(alerts[0]?.read.notes).toEqual([
      { field: 'alerts', problem: "a list of 1 beside the alert's own fields: the body pages as this alert, each element on its own" },
    ]);
    // The list is not carried twice: its elements are alerts (or dead letters) of their own.
    expect(alerts[0]?.fields).not.toHaveProperty('alerts');
    expect(rejected).toEqual([]);
  });

  it('the finding: a body alert whose list holds only "oops" still pages as root-1, severity 1; "oops" is dead-lettered as it was', () => {
    const body = { id: 'root-1', title: 'ROOT ALERT sev1', severity: 1, created_at: 1_700_000_000_000, alerts: ['oops'] };
    const { alerts, rejected } = accepted(decode(body));
    expect(alerts.map(({ read }) => [read.id, read.title, read.severity])).toEqual([['root-1', 'ROOT ALERT sev1', 1]]);
    expect(rejected).toEqual([{ index: 0, problems: ['alerts[0]: expected object'], raw: 'oops' }]);
  });

  it('the finding: a body alert whose list holds an object that is no alert pages as root-1, and the object on its own', () => {
    const body = { id: 'root-1', title: 'ROOT ALERT sev1', severity: 1, created_at: 1_700_000_000_000, alerts: [{ note: 'x' }] };
    const { alerts } = accepted(decode(body));
    expect(alerts[0]?.read).toMatchObject({ id: 'root-1', title: 'ROOT ALERT sev1', severity: 1 });
    expect(alerts[1]?.read.id).toMatch(/^relay-derived-/);
    expect(alerts).toHaveLength(2);
  });

  it('a wrapper with only its organization beside the list is a batch, not an alert', () => {
    const { alerts } = accepted(decode({ organization_id: 'org-1', alerts: [aRawAlert({ id: 'inner' })] }));
    expect(alerts.map(({ read }) => read.id)).toEqual(['inner']);
  });
});

type Row = readonly [name: string, body: unknown, problems: readonly string[]];

describe('decodeWebhookBody: bodies with no alert at all fail as a whole, with field paths', () => {
  it.each<Row>([
    [
      'alerts is a string',
      { alerts: SENTINEL },
      [
        'alerts: expected an array of alerts, or one alert object (with id, title, created_at, severity, organization_id, server_or_region, source)',
      ],
    ],
    [
      'alerts is an object',
      { alerts: { 0: SENTINEL } },
      [
        'alerts: expected an array of alerts, or one alert object (with id, title, created_at, severity, organization_id, server_or_region, source)',
      ],
    ],
    [
      'alerts is an empty object',
      { alerts: {} },
      [
        'alerts: expected an array of alerts, or one alert object (with id, title, created_at, severity, organization_id, server_or_region, source)',
      ],
    ],
    [
      'alerts is null',
      { alerts: null, note: SENTINEL },
      [
        'alerts: expected an array of alerts, or one alert object (with id, title, created_at, severity, organization_id, server_or_region, source)',
      ],
    ],
    ['a string', SENTINEL, ['(root): expected an object {"alerts": [...]} or a single alert object']],
    ['a number', 42, ['(root): expected an object {"alerts": [...]} or a single alert object']],
    ['null', null, ['(root): expected an object {"alerts": [...]} or a single alert object']],
    ['true', true, ['(root): expected an object {"alerts": [...]} or a single alert object']],
    [
      'an object with no alert field',
      { hello: SENTINEL },
      [
        '(root): expected {"alerts": [...]} or an alert object (with id, title, created_at, severity, organization_id, server_or_region, source)',
      ],
    ],
  ])('%s', (_name, body, problems) => {
    const result = decode(body);
    expect(result).toEqual({ kind: 'invalid', problems });
    expect(JSON.stringify(result)).not.toContain(SENTINEL);
  });
});
