import type { Alert } from '../../../lib/alert/codec';
import {
  DEFAULT_PRIORITIES,
  incidentBytes,
  MAX_INCIDENT_BYTES,
  MAX_MESSAGE_CHARS,
  toIncident,
  truncate,
} from '../../../lib/incident/to-incident';
import { anAlert } from '../../helpers/factories';

describe('toIncident: mapping', () => {
  it.each<[1 | 2 | 3, string, string, string, string]>([
    [1, 'P1', 'high', '#d32f2f', 'High \\(1\\)'],
    [2, 'P2', 'medium', '#f57c00', 'Medium \\(2\\)'],
    [3, 'P3', 'low', '#1976d2', 'Low \\(3\\)'],
  ])('severity %p -> priority %s, tag %s (%s)', (severity, priority, tag, color, described) => {
    const incident = toIncident(anAlert({ severity }));
    expect(incident.priority).toBe(priority);
    expect(incident.tags.severity).toEqual({ value: tag, color });
    expect(incident.description).toContain(`| Severity | ${described} |`);
  });

  it('maps severities to the configured priorities; the tag and color stay with the severity', () => {
    const priorities = { 1: 'P2', 2: 'P4', 3: 'P5' } as const;
    expect([1, 2, 3].map((severity) => toIncident(anAlert({ severity: severity as 1 | 2 | 3 }), priorities).priority)).toEqual([
      'P2',
      'P4',
      'P5',
    ]);
    expect(toIncident(anAlert({ severity: 3 }), priorities).tags.severity).toEqual({ value: 'low', color: '#1976d2' });
    expect(DEFAULT_PRIORITIES).toEqual({ 1: 'P1', 2: 'P2', 3: 'P3' });
  });

  it('maps a whole alert', () => {
    const alert = anAlert({
      id: '7c1e2f30-1a2b-11ee-8c90-0242ac120002',
      title: 'CloudTrail: Root login without MFA',
      created_at: 1_700_000_000_123,
      severity: 1,
      organization_id: '5f0c1d2e3a4b5c6d7e8f9a0b',
      organization_name: 'Example Corp',
      server_or_region: 'us-east-1',
      source: 'CloudTrail',
    });
    expect(toIncident(alert)).toEqual({
      message: 'CloudTrail: Root login without MFA',
      description: [
        '**CloudTrail: Root login without MFA**',
        '',
        '| Field | Value |',
        '| --- | --- |',
        '| Severity | High \\(1\\) |',
        '| Source | CloudTrail |',
        '| Region | us\\-east\\-1 |',
        '| Organization | Example Corp \\(5f0c1d2e3a4b5c6d7e8f9a0b\\) |',
        '| Created at | 2023\\-11\\-14T22:13:20.123Z |',
        '| Threat Stack alert id | 7c1e2f30\\-1a2b\\-11ee\\-8c90\\-0242ac120002 |',
        '',
        'Sent by the Threat Stack → Squadcast relay. Threat Stack sends no resolve notifications: resolve this incident by hand.',
      ].join('\n'),
      tags: {
        severity: { value: 'high', color: '#d32f2f' },
        source: 'CloudTrail',
        server_or_region: 'us-east-1',
        organization_id: '5f0c1d2e3a4b5c6d7e8f9a0b',
        organization_name: 'Example Corp',
      },
      priority: 'P1',
      status: 'trigger',
      event_id: '7c1e2f30-1a2b-11ee-8c90-0242ac120002',
    });
  });

  it('uses the alert id as event_id and always triggers', () => {
    const alert = anAlert({ id: '5a1b2c3d4e5f60718293a4b5' });
    expect(toIncident(alert)).toEqual(expect.objectContaining({ event_id: '5a1b2c3d4e5f60718293a4b5', status: 'trigger' }));
  });

  it('sends the title as the message as sent, double spaces and all', () => {
    expect(toIncident(anAlert({ title: 'Host:  sudo  to root ' })).message).toBe('Host:  sudo  to root ');
  });

  it('does not escape the message (it is plain text in lists)', () => {
    expect(toIncident(anAlert({ title: 'a_b *c* [d]' })).message).toBe('a_b *c* [d]');
  });

  it('names a host alert "Host or region"', () => {
    expect(toIncident(anAlert({ source: 'Host', server_or_region: 'web1' })).description).toContain('| Host or region | web1 |');
  });

  it('gives a blank title a message', () => {
    expect(toIncident(anAlert({ title: '  ', source: 'Host' })).message).toBe('Threat Stack Host alert');
  });

  it.each<[string, Partial<Alert>, string | undefined]>([
    ['organization_name', { organization_name: 'Lower Org' }, 'Lower Org'],
    ['organization_Name', { organization_Name: 'Upper Org' }, 'Upper Org'],
    ['neither', {}, undefined],
  ])('tags the organization name from %s', (_name, overrides, expected) => {
    const incident = toIncident(anAlert({ organization_id: 'org-1', ...overrides }));
    expect(incident.tags.organization_name).toBe(expected);
    expect(incident.tags.organization_id).toBe('org-1');
    expect(incident.description).toContain(
      expected === undefined ? '| Organization | org\\-1 |' : `| Organization | ${expected} \\(org\\-1\\) |`,
    );
    if (expected === undefined) expect(Object.keys(incident.tags)).not.toContain('organization_name');
  });

  it('tags source and server_or_region', () => {
    const incident = toIncident(anAlert({ source: 'CloudTrail', server_or_region: 'eu-west-1' }));
    expect(incident.tags).toEqual(expect.objectContaining({ source: 'CloudTrail', server_or_region: 'eu-west-1' }));
  });

  it.each<[number, string]>([
    [0, '1970\\-01\\-01T00:00:00.000Z'],
    [1_459_447_024_000, '2016\\-03\\-31T17:57:04.000Z'],
    [1_700_000_000_123, '2023\\-11\\-14T22:13:20.123Z'],
  ])('writes created_at %p as ISO-8601 UTC', (createdAt, iso) => {
    expect(toIncident(anAlert({ created_at: createdAt })).description).toContain(`| Created at | ${iso} |`);
  });

  it('lists unknown extra fields in the description', () => {
    const description = toIncident(anAlert({ rule_hint: 'kept', details: { port: 22 }, flag: null })).description;
    expect(description).toContain('| rule\\_hint | kept |');
    expect(description).toContain('| details | \\{"port":22\\} |');
    expect(description).toContain('| flag | null |');
  });
});

describe('toIncident: alert text shows as text, never as Markdown', () => {
  const LINK = '[x](http://evil)';

  it.each<[string, Partial<Alert> & Record<string, unknown>]>([
    ['title', { title: `Click ${LINK}` }],
    ['source', { source: LINK }],
    ['server_or_region', { server_or_region: LINK }],
    ['organization_name', { organization_name: LINK }],
    ['organization_id', { organization_id: LINK }],
    ['id', { id: LINK }],
    ['an extra field value', { note: LINK }],
    ['an extra field name', { [LINK]: 'v' }],
  ])('a link in the %s is escaped', (_name, overrides) => {
    const { description } = toIncident(anAlert(overrides));
    expect(description).not.toContain(LINK);
    expect(description).not.toMatch(/(^|[^\\])\]\(/);
    expect(description).toContain('\\[x\\]\\(http://evil\\)');
  });

  it.each([
    ['an image', '![i](http://evil/p.png)', '\\!\\[i\\]\\(http://evil/p.png\\)'],
    ['an autolink', '<http://evil>', '\\<http://evil\\>'],
    ['HTML', '<img src=x onerror=alert(1)>', '\\<img src=x onerror=alert\\(1\\)\\>'],
    ['emphasis', '*bold* _it_ `code`', '\\*bold\\* \\_it\\_ \\`code\\`'],
    ['a table cell break', 'a | b', 'a \\| b'],
    ['a heading', '# h', '\\# h'],
    ['a backslash', 'C:\\temp', 'C:\\\\temp'],
  ])('escapes %s', (_name, text, escaped) => {
    expect(toIncident(anAlert({ server_or_region: text })).description).toContain(`| Host or region | ${escaped} |`);
  });

  it('keeps a line break from ending a table row', () => {
    // CommonMark ends a line at LF, CRLF and a lone CR alike.
    const { description } = toIncident(anAlert({ server_or_region: 'a\nb\r\nc\rd', title: 'x\ry' }));
    expect(description).toContain('| Host or region | a b c d |');
    expect(description.split('\n')[0]).toBe('**x y**');
    expect(description).not.toContain('\r');
  });
});

const MB = 1_000_000;

describe('toIncident: the body always fits Squadcast (MAX_INCIDENT_BYTES)', () => {
  it('is 29,000 bytes, under the documented 30 KB', () => {
    expect(MAX_INCIDENT_BYTES).toBe(29_000);
  });

  it('measures the JSON body in UTF-8 bytes', () => {
    const incident = toIncident(anAlert({ title: '€' }));
    expect(incidentBytes(incident)).toBe(Buffer.byteLength(JSON.stringify(incident), 'utf8'));
  });

  it('cuts a 1 MB title to MAX_MESSAGE_CHARS characters in the message', () => {
    const incident = toIncident(anAlert({ title: 't'.repeat(MB) }));
    expect(Array.from(incident.message)).toHaveLength(MAX_MESSAGE_CHARS);
    expect(incident.message.endsWith('…')).toBe(true);
    expect(incidentBytes(incident)).toBeLessThanOrEqual(MAX_INCIDENT_BYTES);
  });

  it('keeps the alert id as event_id when only the extra fields are too big, and drops the extras first', () => {
    const alert = anAlert(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`extra_${i}`, 'v'.repeat(10_000)])));
    const incident = toIncident(alert);
    expect(incident.event_id).toBe(alert.id);
    expect(incident.description).not.toContain('extra');
    expect(incident.description).toContain(`| Threat Stack alert id |`);
    expect(incidentBytes(incident)).toBeLessThanOrEqual(MAX_INCIDENT_BYTES);
  });

  it('uses the room it has: a description cut by bytes fills the body to within a character of the limit', () => {
    for (const char of ['€', '😀', '\u0001', '\\']) {
      const long = char.repeat(3_000);
      const incident = toIncident(anAlert({ id: long, title: long, source: long, server_or_region: long, organization_name: long }));
      expect(incidentBytes(incident)).toBeLessThanOrEqual(MAX_INCIDENT_BYTES);
      expect(incidentBytes(incident)).toBeGreaterThan(MAX_INCIDENT_BYTES - 8);
      expect(incident.description.startsWith('**')).toBe(true);
      expect(incident.description.endsWith('…')).toBe(true);
    }
  });

  it('keeps small extra fields', () => {
    expect(toIncident(anAlert({ small: 'yes' })).description).toContain('| small | yes |');
  });

  it.each<[string, Partial<Alert> & Record<string, unknown>]>([
    ['a 1 MB title', { title: 't'.repeat(MB) }],
    ['1 MB of extra fields', { extra: 'x'.repeat(MB / 2), more: { nested: 'y'.repeat(MB / 2) } }],
    ['a 100 KB id', { id: 'i'.repeat(100_000) }],
    ['a 1 MB title of 4-byte characters', { title: '😀'.repeat(MB / 4) }],
  ])('with %s', (_name, overrides) => {
    expect(incidentBytes(toIncident(anAlert(overrides)))).toBeLessThanOrEqual(MAX_INCIDENT_BYTES);
  });

  /** Every shape is far past every cut (message, tag, field); the characters are the ones that grow in JSON or UTF-8. */
  const KB20 = 20_000;
  const shapes: ReadonlyArray<[string, (char: string) => Partial<Alert> & Record<string, unknown>]> = [
    ['a long title', (c) => ({ title: c.repeat(KB20) })],
    ['a long extra field', (c) => ({ extra: c.repeat(KB20) })],
    ['many long extra fields', (c) => Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${c.repeat(200)}${i}`, c.repeat(1_000)]))],
    ['a long id', (c) => ({ id: c.repeat(KB20) })],
    ['a long source and server_or_region', (c) => ({ source: c.repeat(KB20), server_or_region: c.repeat(KB20) })],
    [
      'a long organization id and name',
      (c) => ({ organization_id: c.repeat(KB20), organization_name: c.repeat(KB20), organization_Name: c.repeat(KB20) }),
    ],
    [
      'every field long',
      (c) => ({
        id: c.repeat(KB20),
        title: c.repeat(KB20),
        source: c.repeat(KB20),
        server_or_region: c.repeat(KB20),
        organization_id: c.repeat(KB20),
        organization_name: c.repeat(KB20),
        extra: c.repeat(KB20),
      }),
    ],
    [
      // No field is past its own cut here: only the description as a whole is too big.
      'every field just under its own cut',
      (c) => ({
        id: c.repeat(900),
        title: c.repeat(2_000),
        source: c.repeat(2_000),
        server_or_region: c.repeat(2_000),
        organization_id: c.repeat(1_000),
        organization_name: c.repeat(1_000),
      }),
    ],
  ];
  const characters: ReadonlyArray<[string, string]> = [
    ['ASCII', 'a'],
    ['Markdown characters (escaped)', '*'],
    ['backslashes (escaped twice)', '\\'],
    ['quotes', '"'],
    ['control characters (\\u0001 in JSON)', '\u0001'],
    ['3-byte characters', '€'],
    ['4-byte characters', '😀'],
  ];

  describe.each(characters)('of %s', (_chars, char) => {
    it.each(shapes)('with %s', (_shape, overrides) => {
      const incident = toIncident(anAlert(overrides(char)));
      expect(incidentBytes(incident)).toBeLessThanOrEqual(MAX_INCIDENT_BYTES);
      expect(incident.description.length).toBeGreaterThan(0);
      expect(incident.message.length).toBeGreaterThan(0);
      expect(incident.event_id.length).toBeGreaterThan(0);
    });
  });
});

describe('truncate', () => {
  it.each<[string, number, string]>([
    ['short', 10, 'short'],
    ['exactly', 7, 'exactly'],
    ['too long', 4, 'too…'],
    ['😀😀😀😀', 3, '😀😀…'],
    ['', 3, ''],
  ])('%p to %p characters: %p', (text, max, expected) => {
    expect(truncate(text, max)).toBe(expected);
  });

  it('never splits a surrogate pair', () => {
    const cut = truncate('😀'.repeat(10), 5);
    expect(cut).toBe(`${'😀'.repeat(4)}…`);
    expect(Buffer.from(cut, 'utf8').toString('utf8')).toBe(cut);
  });
});
