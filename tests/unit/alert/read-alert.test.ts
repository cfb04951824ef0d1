import type { AlertIssue, ReadAlert } from '../../../lib/alert/read-alert';
import {
  canonicalJson,
  DERIVED_ID_PREFIX,
  deriveAlertId,
  describeIssues,
  isDegraded,
  MAX_ALERT_ID_CHARS,
  readAlert,
} from '../../../lib/alert/read-alert';
import { aRawAlert, SENTINEL } from '../../helpers/factories';

const RECEIVED = new Date('2023-11-14T22:13:21.000Z');
const read = (overrides: Readonly<Record<string, unknown>> = {}): ReadAlert => readAlert(aRawAlert(overrides), { receivedAt: RECEIVED });

describe('readAlert: fields that parse are used as they are', () => {
  it('reads a well-formed alert completely, with nothing to report', () => {
    const alert = read({ id: 'a-1', severity: '2', created_at: '1459447024000', organization_Name: 'Org', extra: [1] });
    expect(alert).toMatchObject({
      id: 'a-1',
      severity: 2,
      createdAt: { kind: 'milliseconds', at: new Date(1_459_447_024_000) },
      organizationName: 'Org',
      unreadable: [],
      notes: [],
    });
    expect(alert.fields.extra).toEqual([1]);
    expect(isDegraded(alert)).toBe(false);
  });

  it('prefers organization_name to organization_Name, and reports an unreadable one of them', () => {
    expect(read({ organization_name: 'lower', organization_Name: 'upper' }).organizationName).toBe('lower');
    const alert = read({ organization_name: 7, organization_Name: 'upper' });
    expect(alert.organizationName).toBe('upper');
    expect(alert.unreadable).toEqual([{ field: 'organization_name', problem: 'expected text' }]);
  });
});

type Row = readonly [name: string, overrides: Readonly<Record<string, unknown>>, unreadable: readonly AlertIssue[]];

/** Every value carries SENTINEL where it can: no problem may quote it. */
const unreadableRows: readonly Row[] = [
  ['severity 0', { severity: 0 }, [{ field: 'severity', problem: 'expected 1, 2 or 3' }]],
  ['severity 4', { severity: 4 }, [{ field: 'severity', problem: 'expected 1, 2 or 3' }]],
  ['severity "high"', { severity: 'high' }, [{ field: 'severity', problem: 'expected 1, 2 or 3' }]],
  ['severity 1.5', { severity: 1.5 }, [{ field: 'severity', problem: 'expected 1, 2 or 3' }]],
  ['severity missing', { severity: undefined }, [{ field: 'severity', problem: 'missing' }]],
  [
    'created_at as a date without a time zone',
    { created_at: '2017-12-06 16:12:41' },
    [{ field: 'created_at', problem: 'expected epoch milliseconds, an integer or a string of digits' }],
  ],
  [
    'created_at with a fraction that is not zero',
    { created_at: '1459447024000.5' },
    [{ field: 'created_at', problem: 'expected epoch milliseconds, an integer or a string of digits' }],
  ],
  [
    'created_at as the sentinel',
    { created_at: SENTINEL },
    [{ field: 'created_at', problem: 'expected epoch milliseconds, an integer or a string of digits' }],
  ],
  ['title missing', { title: undefined }, [{ field: 'title', problem: 'missing' }]],
  ['title an object', { title: { text: SENTINEL } }, [{ field: 'title', problem: 'expected text' }]],
  ['server_or_region null', { server_or_region: null }, [{ field: 'server_or_region', problem: 'expected text' }]],
  ['organization_id missing', { organization_id: undefined }, [{ field: 'organization_id', problem: 'missing' }]],
  ['source a number', { source: 7 }, [{ field: 'source', problem: 'expected text' }]],
  ['organization_Name an array', { organization_Name: [SENTINEL] }, [{ field: 'organization_Name', problem: 'expected text' }]],
  ['id missing', { id: undefined }, [{ field: 'id', problem: "missing: the relay derived an id from the alert's content" }]],
  ['id blank', { id: '   ' }, [{ field: 'id', problem: "expected a non-blank string: the relay derived an id from the alert's content" }]],
  [
    'id a number',
    { id: 1234 },
    [{ field: 'id', problem: "expected a non-blank string: the relay derived an id from the alert's content" }],
  ],
  [
    'id too long for the ledger',
    { id: `${SENTINEL}${'x'.repeat(MAX_ALERT_ID_CHARS)}` },
    [{ field: 'id', problem: "longer than 256 characters: the relay derived an id from the alert's content" }],
  ],
  [
    'several fields wrong, listed in the documented order',
    { severity: SENTINEL, created_at: SENTINEL, id: '' },
    [
      { field: 'id', problem: "expected a non-blank string: the relay derived an id from the alert's content" },
      { field: 'created_at', problem: 'expected epoch milliseconds, an integer or a string of digits' },
      { field: 'severity', problem: 'expected 1, 2 or 3' },
    ],
  ],
];

describe('readAlert: fields that do not parse are listed, never quoted', () => {
  it.each(unreadableRows)('%s', (_name, overrides, unreadable) => {
    const alert = read(overrides);
    expect(alert.unreadable).toEqual(unreadable);
    expect(isDegraded(alert)).toBe(true);
    expect(JSON.stringify([alert.unreadable, alert.notes, describeIssues(alert, 'alerts[1]')])).not.toContain(SENTINEL);
  });

  it('leaves an unreadable severity undefined (it pages at the unknown-severity priority)', () => {
    expect(read({ severity: 4 }).severity).toBeUndefined();
  });

  it('describes issues for logs with the batch path, naming undocumented fields only generically', () => {
    const alert = readAlert(aRawAlert({ severity: 4 }), { receivedAt: RECEIVED, notes: [{ field: `${SENTINEL}-key`, problem: 'cut' }] });
    expect(describeIssues(alert, 'alerts[3]')).toEqual(['alerts[3].severity: expected 1, 2 or 3', 'alerts[3].(an extra field): cut']);
    expect(describeIssues(alert, '')).toEqual(['severity: expected 1, 2 or 3', '(an extra field): cut']);
  });
});

describe('readAlert: created_at plausibility', () => {
  it.each<[string, unknown, string, string | undefined]>([
    ['milliseconds', 1_700_000_000_123, 'milliseconds', undefined],
    ['milliseconds as a string', '1700000000123', 'milliseconds', undefined],
    ['seconds', 1_459_447_024, 'seconds', 'sent in seconds, not milliseconds: read as seconds'],
    ['seconds as a string', '1459447024', 'seconds', 'sent in seconds, not milliseconds: read as seconds'],
    ['zero', 0, 'implausible', 'before 2010: shown as sent'],
    ['negative', -5, 'implausible', 'before 2010: shown as sent'],
    ['2009', Date.UTC(2009, 11, 31), 'implausible', 'before 2010: shown as sent'],
    ['microseconds', 1_700_000_000_123_000, 'implausible', 'more than a day after the relay received the alert: shown as sent'],
    [
      'two days after receipt',
      RECEIVED.getTime() + 2 * 86_400_000,
      'implausible',
      'more than a day after the relay received the alert: shown as sent',
    ],
    ['an hour after receipt (clock skew)', RECEIVED.getTime() + 3_600_000, 'milliseconds', undefined],
  ])('%s', (_name, createdAt, kind, note) => {
    const alert = read({ created_at: createdAt });
    expect(alert.createdAt?.kind).toBe(kind);
    expect(alert.notes).toEqual(note === undefined ? [] : [{ field: 'created_at', problem: note }]);
    expect(alert.unreadable).toEqual([]);
  });

  it.each<[string, string, string, string]>([
    [
      'an ISO-8601 date-time (the F5-era support article)',
      '2017-12-06T16:12:41.417Z',
      '2017-12-06T16:12:41.417Z',
      'sent as an ISO-8601 date-time, not epoch milliseconds: read as such',
    ],
    [
      'an ISO-8601 date-time with an offset',
      '2017-12-06T17:12:41+01:00',
      '2017-12-06T16:12:41.000Z',
      'sent as an ISO-8601 date-time, not epoch milliseconds: read as such',
    ],
    [
      'epoch milliseconds with a zero fraction',
      '1459447024000.0',
      '2016-03-31T17:57:04.000Z',
      'sent with a decimal point: read as epoch milliseconds',
    ],
  ])('reads %s, and notes it', (_name, createdAt, iso, note) => {
    const alert = read({ created_at: createdAt });
    expect(alert.createdAt).toEqual({ kind: 'milliseconds', at: new Date(iso) });
    expect(alert.notes).toEqual([{ field: 'created_at', problem: note }]);
    expect(alert.unreadable).toEqual([]);
    expect(isDegraded(alert)).toBe(true);
  });

  it('flags an ISO-8601 date-time before 2010 and shows it as sent, never reading it as seconds', () => {
    const alert = read({ created_at: '2001-09-09T01:46:40Z' });
    expect(alert.createdAt).toEqual({
      kind: 'implausible',
      sent: '2001-09-09T01:46:40Z',
      at: new Date('2001-09-09T01:46:40Z'),
      why: 'before-2010',
    });
  });

  it('reads seconds as the same instant in milliseconds', () => {
    expect(read({ created_at: 1_459_447_024 }).createdAt).toEqual({
      kind: 'seconds',
      at: new Date(1_459_447_024_000),
      sent: 1_459_447_024,
    });
  });

  it('keeps a reading in milliseconds for a flagged value a date can hold, and none for one it cannot', () => {
    expect(read({ created_at: 0 }).createdAt).toEqual({ kind: 'implausible', sent: 0, at: new Date(0), why: 'before-2010' });
    expect(read({ created_at: 9_000_000_000_000_000 }).createdAt).toEqual({
      kind: 'implausible',
      sent: 9_000_000_000_000_000,
      at: undefined,
      why: 'future',
    });
  });
});

describe('readAlert: ids', () => {
  it('uses the id ingest chose (from the queue message) over the alert and over a derivation', () => {
    expect(readAlert(aRawAlert({ id: 'sent' }), { receivedAt: RECEIVED, id: 'chosen' }).id).toBe('chosen');
    expect(readAlert(aRawAlert({ id: undefined }), { receivedAt: RECEIVED, id: 'chosen' }).id).toBe('chosen');
    expect(readAlert(aRawAlert({ id: 'sent' }), { receivedAt: RECEIVED, id: '' }).id).toBe('sent');
  });

  it('derives a stable id from the content: key order does not matter, any other change does', () => {
    const a = { title: 't', nested: { y: [1, { q: 1, p: 2 }], x: null } };
    const b = { nested: { x: null, y: [1, { p: 2, q: 1 }] }, title: 't' };
    expect(deriveAlertId(a)).toBe(deriveAlertId(b));
    expect(deriveAlertId(a)).toMatch(new RegExp(`^${DERIVED_ID_PREFIX}[0-9a-f]{32}$`));
    expect(deriveAlertId({ ...a, title: 'u' })).not.toBe(deriveAlertId(a));
    expect(deriveAlertId({ nested: { y: [{ q: 1, p: 2 }, 1], x: null }, title: 't' })).not.toBe(deriveAlertId(a));
    expect(canonicalJson(b)).toBe('{"nested":{"x":null,"y":[1,{"p":2,"q":1}]},"title":"t"}');
  });
});
