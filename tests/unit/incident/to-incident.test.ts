import { readAlert } from '../../../lib/alert/read-alert';
import { jsonStringBytes } from '../../../lib/common/text';
import { FOOTER, MAX_DESCRIPTION_BYTES } from '../../../lib/incident/describe';
import { DEFAULT_PRIORITIES, highestPriority } from '../../../lib/incident/priorities';
import { incidentBytes, MAX_INCIDENT_BYTES, MAX_MESSAGE_CHARS, toIncident } from '../../../lib/incident/to-incident';
import { aReadAlert, RECEIVED_AT } from '../../helpers/factories';

type Overrides = Readonly<Record<string, unknown>>;
const incidentOf = (overrides: Overrides = {}) => toIncident(aReadAlert(overrides));

describe('toIncident: mapping', () => {
  it.each<[1 | 2 | 3, string, string, string, string]>([
    [1, 'P1', 'high', '#d32f2f', 'High (1)'],
    [2, 'P2', 'medium', '#f57c00', 'Medium (2)'],
    [3, 'P3', 'low', '#1976d2', 'Low (3)'],
  ])('severity %p -> priority %s, tag %s (%s)', (severity, priority, tag, color, described) => {
    const incident = incidentOf({ severity });
    expect(incident.priority).toBe(priority);
    expect(incident.tags.severity).toEqual({ value: tag, color });
    expect(incident.description).toContain(`| Severity | ${described} |`);
  });

  it('maps severities to the configured priorities; the tag and color stay with the severity', () => {
    const priorities = { 1: 'P2', 2: 'P4', 3: 'P5' } as const;
    expect([1, 2, 3].map((severity) => toIncident(aReadAlert({ severity }), priorities).priority)).toEqual(['P2', 'P4', 'P5']);
    expect(toIncident(aReadAlert({ severity: 3 }), priorities).tags.severity).toEqual({ value: 'low', color: '#1976d2' });
    expect(DEFAULT_PRIORITIES).toEqual({ 1: 'P1', 2: 'P2', 3: 'P3' });
  });

  it('maps a whole alert: machine values in code spans, no backslash anywhere', () => {
    const alert = aReadAlert({
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
        '| Severity | High (1) |',
        '| Source | CloudTrail |',
        '| Region | `us-east-1` |',
        '| Organization | Example Corp (`5f0c1d2e3a4b5c6d7e8f9a0b`) |',
        '| Created at | `2023-11-14T22:13:20.123Z` |',
        '| Threat Stack alert id | `7c1e2f30-1a2b-11ee-8c90-0242ac120002` |',
        '',
        FOOTER,
      ].join('\n'),
      tags: {
        severity: { value: 'high', color: '#d32f2f' },
        source: 'CloudTrail',
        server_or_region: 'us-east-1',
        organization_id: '5f0c1d2e3a4b5c6d7e8f9a0b',
        organization_name: 'Example Corp',
        alert_id: '7c1e2f30-1a2b-11ee-8c90-0242ac120002',
      },
      priority: 'P1',
      status: 'trigger',
      event_id: '7c1e2f30-1a2b-11ee-8c90-0242ac120002',
    });
  });

  it('uses the alert id as event_id and always triggers', () => {
    expect(incidentOf({ id: '5a1b2c3d4e5f60718293a4b5' })).toEqual(
      expect.objectContaining({ event_id: '5a1b2c3d4e5f60718293a4b5', status: 'trigger' }),
    );
  });

  it('sends the title as the message as sent, double spaces and all', () => {
    expect(incidentOf({ title: 'Host:  sudo  to root ' }).message).toBe('Host:  sudo  to root ');
  });

  it('does not escape the message (it is plain text in lists)', () => {
    expect(incidentOf({ title: 'a_b *c* [d] <b>x</b> &amp; http://evil.example' }).message).toBe(
      'a_b *c* [d] <b>x</b> &amp; http://evil.example',
    );
  });

  it('removes control characters from the message and the tags, and turns line breaks into spaces', () => {
    const incident = incidentOf({ title: 'a\nb\r\nc\td\u0000e\u202ef', server_or_region: 'web\r\n1\u0007', source: 'Ho\u0085st' });
    expect(incident.message).toBe('a b c def');
    expect(incident.tags.server_or_region).toBe('web 1');
    expect(incident.tags.source).toBe('Ho st');
  });

  it('names a host alert "Host or region"', () => {
    expect(incidentOf({ source: 'Host', server_or_region: 'web1' }).description).toContain('| Host or region | `web1` |');
  });

  it.each([
    ['blank', '  '],
    ['of control characters only', '\u0007\u001b\u202e'],
  ])('gives a title %s the same message and first line, never (empty)', (_name, title) => {
    const incident = incidentOf({ title, source: 'Host' });
    expect(incident.message).toBe('Threat Stack Host alert');
    expect(incident.description.split('\n')[0]).toBe('**Threat Stack Host alert**');
    expect(incident.description).not.toContain('(empty)');
  });

  it.each<[string, Overrides, string | undefined]>([
    ['organization_name', { organization_name: 'Lower Org' }, 'Lower Org'],
    ['organization_Name', { organization_Name: 'Upper Org' }, 'Upper Org'],
    ['neither', {}, undefined],
  ])('tags the organization name from %s', (_name, overrides, expected) => {
    const incident = incidentOf({ organization_id: 'org-1', ...overrides });
    expect(incident.tags.organization_name).toBe(expected);
    expect(incident.tags.organization_id).toBe('org-1');
    expect(incident.description).toContain(
      expected === undefined ? '| Organization | `org-1` |' : `| Organization | ${expected} (\`org-1\`) |`,
    );
    if (expected === undefined) expect(Object.keys(incident.tags)).not.toContain('organization_name');
  });

  it('tags source and server_or_region', () => {
    const incident = incidentOf({ source: 'CloudTrail', server_or_region: 'eu-west-1' });
    expect(incident.tags).toEqual(expect.objectContaining({ source: 'CloudTrail', server_or_region: 'eu-west-1' }));
  });

  it.each<[number | string, string]>([
    [1_459_447_024_000, '2016-03-31T17:57:04.000Z'],
    ['1459447024000', '2016-03-31T17:57:04.000Z'],
    [1_700_000_000_123, '2023-11-14T22:13:20.123Z'],
  ])('writes created_at %p as ISO-8601 UTC', (createdAt, iso) => {
    expect(incidentOf({ created_at: createdAt }).description).toContain(`| Created at | \`${iso}\` |`);
  });

  it('lists unknown extra fields in the description', () => {
    const description = incidentOf({ rule_hint: 'kept', details: { port: 22 }, flag: null }).description;
    expect(description).toContain('| rule_hint | kept |');
    expect(description).toContain('| details | `{"port":22}` |');
    expect(description).toContain('| flag | `null` |');
  });
});

describe('toIncident: a degraded alert still pages, and says what could not be read', () => {
  it('gives an unknown severity the highest priority of the mapping, the tag severity: unknown, and shows the value as sent', () => {
    const incident = incidentOf({ severity: 4 });
    expect(incident.priority).toBe('P1');
    expect(incident.tags.severity).toEqual({ value: 'unknown', color: '#7b1fa2' });
    expect(incident.description).toContain('| Severity | Unknown: `4` as sent |');
    expect(incident.description).toContain('**Fields the relay could not read:** severity (expected 1, 2 or 3).');
  });

  it('uses the configured unknown-severity priority, else the highest one the mapping uses', () => {
    expect(toIncident(aReadAlert({ severity: 'urgent' }), DEFAULT_PRIORITIES, 'P3').priority).toBe('P3');
    expect(toIncident(aReadAlert({ severity: 'urgent' }), { 1: 'P2', 2: 'P3', 3: 'P5' }).priority).toBe('P2');
    expect(highestPriority({ 1: 'P4', 2: 'P3', 3: 'P5' })).toBe('P3');
  });

  it('shows every unreadable field as sent, under one heading, and omits its tag', () => {
    const incident = incidentOf({ created_at: 'yesterday', server_or_region: null, title: undefined, severity: 4 });
    const lines = incident.description.split('\n');
    expect(lines[0]).toBe('**Threat Stack Host alert**');
    expect(lines[2]).toBe(
      '**Fields the relay could not read:** title (missing), created_at (expected epoch milliseconds, an integer or a string of digits), severity (expected 1, 2 or 3), server_or_region (expected text). They are shown as sent below.',
    );
    expect(lines).toContain('| Created at | `"yesterday"` as sent |');
    expect(lines).toContain(`| Received by the relay | \`${RECEIVED_AT.toISOString()}\` |`);
    expect(lines).toContain('| Host or region | `null` as sent |');
    expect(incident.tags).not.toHaveProperty('server_or_region');
    expect(incident.message).toBe('Threat Stack Host alert');
  });

  it('reads created_at sent as an ISO-8601 date-time, and notes it', () => {
    const { description } = incidentOf({ created_at: '2017-12-06T16:12:41.417Z' });
    expect(description).toContain('| Created at | `2017-12-06T16:12:41.417Z` |');
    expect(description).toContain(
      '**Notes from the relay:** created_at (sent as an ISO-8601 date-time, not epoch milliseconds: read as such).',
    );
  });

  it('reads created_at sent in seconds as seconds, and notes it', () => {
    const { description } = incidentOf({ created_at: 1_459_447_024 });
    expect(description).toContain('| Created at | `2016-03-31T17:57:04.000Z` (sent in seconds: `1459447024`) |');
    expect(description).toContain('**Notes from the relay:** created_at (sent in seconds, not milliseconds: read as seconds).');
  });

  it.each<[string, number, string]>([
    ['before 2010', 86_400_000, '| Created at | `86400000` as sent (as epoch milliseconds: `1970-01-02T00:00:00.000Z`) |'],
    [
      'far in the future',
      99_999_999_999_999,
      '| Created at | `99999999999999` as sent (as epoch milliseconds: `5138-11-16T09:46:39.999Z`) |',
    ],
  ])('shows a created_at %s as sent, and flags it', (_name, createdAt, row) => {
    const { description } = incidentOf({ created_at: createdAt });
    expect(description).toContain(row);
    expect(description).toContain('| Received by the relay |');
    expect(description).toMatch(
      /\*\*Notes from the relay:\*\* created_at \((before 2010|more than a day after the relay received the alert): shown as sent\)\./,
    );
  });

  it('derives an id for an alert without one, and shows an id too long for the ledger, cut', () => {
    const missing = incidentOf({ id: undefined });
    expect(missing.event_id).toMatch(/^relay-derived-[0-9a-f]{32}$/);
    expect(missing.description).toContain(`| Alert id (derived by the relay) | \`${missing.event_id}\` |`);
    const long = incidentOf({ id: 'x'.repeat(300) });
    expect(long.event_id).toMatch(/^relay-derived-/);
    expect(long.description).toContain(`| Alert id as sent | \`"${'x'.repeat(300)}"\` as sent |`);
  });
});

describe('toIncident: alert text shows as text, never as markup, and never gains a backslash', () => {
  it.each<[string, Overrides]>([
    ['title', { title: 'Click [x](http://evil.example)' }],
    ['source', { source: '[x](http://evil.example)' }],
    ['organization_name', { organization_name: '[x](http://evil.example)' }],
    ['an extra field value', { note: '[x](http://evil.example)' }],
    ['an extra field name', { '[x](http://evil.example)': 'v' }],
  ])('a link in the %s is inside a code span, verbatim', (_name, overrides) => {
    const { description } = incidentOf(overrides);
    expect(description).toMatch(/`[^`]*\[x\]\(http:\/\/evil\.example\)[^`]*`/);
    expect(description).not.toContain('\\');
  });

  it.each<[string, Overrides]>([
    ['server_or_region', { server_or_region: '[x](http://evil.example)' }],
    ['organization_id', { organization_id: '[x](http://evil.example)' }],
    ['id', { id: '[x](http://evil.example)' }],
  ])('a link in the %s (a machine value) is a code span, verbatim', (_name, overrides) => {
    expect(incidentOf(overrides).description).toContain('`[x](http://evil.example)`');
  });

  it.each([
    ['an image', '![i](http://evil.example/p.png)', '`![i](http://evil.example/p.png)`'],
    ['an autolink', 'see <http://evil.example>', '`see <http://evil.example>`'],
    ['a bare URL', 'see http://evil.example/phish.', 'see `http://evil.example/phish`.'],
    ['a www host', 'at www.evil.example today', 'at `www.evil.example` today'],
    ['an e-mail address', 'mail root@evil.example', 'mail `root@evil.example`'],
    ['a bare URL in parentheses', '(see http://evil.example/p)', '(see `http://evil.example/p`)'],
    [
      'two links in a row, and one apart',
      'from a@b.example www.c.example via d.example',
      'from `a@b.example www.c.example` via `d.example`',
    ],
    ['HTML', '<img src=x onerror=alert(1)>', '`<img src=x onerror=alert(1)>`'],
    ['an entity', 'a &amp; b &#x41;', '`a &amp; b &#x41;`'],
    ['emphasis', '*bold* _it_ ~~gone~~', '`*bold* _it_ ~~gone~~`'],
    ['a code span', 'run `rm -rf /`', '`` run `rm -rf /` ``'],
    ['a table cell break', 'a | b', 'a \\| b'],
    ['a heading character and punctuation (left as sent)', '# h! (x) - y + z = 1.5 > 2', '# h! (x) - y + z = 1.5 > 2'],
    ['an underscore between letters (left as sent)', 'rule_hint snake_case_name', 'rule_hint snake_case_name'],
    ['a backslash', 'C:\\temp', '`C:\\temp`'],
  ])('%s', (_name, text, shown) => {
    expect(incidentOf({ note: text }).description).toContain(`| note | ${shown} |`);
  });

  it('keeps a line break from ending a table row or the title line', () => {
    // CommonMark ends a line at LF, CRLF and a lone CR alike.
    const { description } = incidentOf({ server_or_region: 'a\nb\r\nc\rd', title: 'x\ry' });
    expect(description).toContain('| Host or region | `a b c d` |');
    expect(description.split('\n')[0]).toBe('**x y**');
    expect(description).not.toContain('\r');
  });

  it('writes no backslash before an ordinary character: ids, hosts and times are plain substrings', () => {
    const { description } = incidentOf({
      id: '491a4393-daa0-11e7-9b7b-031f88193b03',
      server_or_region: 'ip-172-31-26-113',
      title: 'Host: Unauthorized (root) shell - spawned!',
    });
    expect(description).not.toContain('\\');
    for (const value of ['491a4393-daa0-11e7-9b7b-031f88193b03', 'ip-172-31-26-113', 'Host: Unauthorized (root) shell - spawned!'])
      expect(description).toContain(value);
  });
});

const MB = 1_000_000;

describe('toIncident: the body always fits Squadcast (MAX_INCIDENT_BYTES) and the description stays under 15,000 bytes', () => {
  it('is 29,000 bytes for the body, under the documented 30 KB, and 14,000 for the description', () => {
    expect(MAX_INCIDENT_BYTES).toBe(29_000);
    expect(MAX_DESCRIPTION_BYTES).toBeLessThan(15_000);
  });

  it('measures the JSON body in UTF-8 bytes', () => {
    const incident = incidentOf({ title: '€' });
    expect(incidentBytes(incident)).toBe(Buffer.byteLength(JSON.stringify(incident), 'utf8'));
  });

  it('cuts a 1 MB title to MAX_MESSAGE_CHARS characters in the message', () => {
    const incident = incidentOf({ title: 't'.repeat(MB) });
    expect(Array.from(incident.message)).toHaveLength(MAX_MESSAGE_CHARS);
    expect(incident.message.endsWith('…')).toBe(true);
    expect(incidentBytes(incident)).toBeLessThanOrEqual(MAX_INCIDENT_BYTES);
  });

  it('keeps every known row when only the extra fields are too big, leaves extras out first and says how many', () => {
    const alert = aReadAlert(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`extra_${i}`, 'v'.repeat(10_000)])));
    const incident = toIncident(alert);
    expect(incident.event_id).toBe(alert.id);
    expect(incident.description).toContain(`| Threat Stack alert id | \`${alert.id}\` |`);
    const kept = incident.description.split('\n').filter((line) => line.startsWith('| extra_')).length;
    expect(kept).toBeGreaterThan(0);
    expect(incident.description).toContain(`| … | ${100 - kept} more fields left out to keep this description under 15,000 bytes |`);
    expect(jsonStringBytes(incident.description)).toBeLessThanOrEqual(MAX_DESCRIPTION_BYTES);
  });

  it('keeps small extra fields', () => {
    expect(incidentOf({ small: 'yes' }).description).toContain('| small | yes |');
  });

  it.each<[string, Overrides]>([
    ['a 1 MB title', { title: 't'.repeat(MB) }],
    ['1 MB of extra fields', { extra: 'x'.repeat(MB / 2), more: { nested: 'y'.repeat(MB / 2) } }],
    ['a 100 KB id', { id: 'i'.repeat(100_000) }],
    ['a 1 MB title of 4-byte characters', { title: '😀'.repeat(MB / 4) }],
    ['10 000 small extra fields', Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`f${i}`, i]))],
  ])('with %s', (_name, overrides) => {
    const incident = incidentOf(overrides);
    expect(incidentBytes(incident)).toBeLessThanOrEqual(MAX_INCIDENT_BYTES);
    expect(jsonStringBytes(incident.description)).toBeLessThanOrEqual(MAX_DESCRIPTION_BYTES);
    expect(incident.description.endsWith(FOOTER)).toBe(true);
  });

  /** Every shape is far past every cut (message, tag, field); the characters are the ones that grow in JSON or UTF-8. */
  const KB20 = 20_000;
  const shapes: ReadonlyArray<[string, (char: string) => Overrides]> = [
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
      'every field unreadable and long',
      (c) => ({
        id: [c.repeat(KB20)],
        title: { t: c.repeat(KB20) },
        created_at: c.repeat(KB20),
        severity: c.repeat(KB20),
        source: [c.repeat(KB20)],
        server_or_region: { s: c.repeat(KB20) },
        organization_id: [c.repeat(KB20)],
        organization_name: [c.repeat(KB20)],
        organization_Name: [c.repeat(KB20)],
      }),
    ],
    [
      // No field is past its own cut here: only the description as a whole is too big.
      'every field just under its own cut',
      (c) => ({
        id: c.repeat(250),
        title: c.repeat(1_000),
        source: c.repeat(500),
        server_or_region: c.repeat(500),
        organization_id: c.repeat(500),
        organization_name: c.repeat(500),
        ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`${c.repeat(90)}${i}`, c.repeat(490)])),
      }),
    ],
  ];
  const characters: ReadonlyArray<[string, string]> = [
    ['ASCII', 'a'],
    ['Markdown characters (code spans)', '*'],
    ['backticks (longer fences)', '`'],
    ['pipes (escaped in table cells)', '|'],
    ['backslashes (twice as long in JSON)', '\\'],
    ['quotes', '"'],
    ['control characters (removed)', '\u0001'],
    ['3-byte characters', '€'],
    ['4-byte characters', '😀'],
  ];

  describe.each(characters)('of %s', (_chars, char) => {
    it.each(shapes)('with %s', (_shape, overrides) => {
      const incident = incidentOf(overrides(char));
      expect(incidentBytes(incident)).toBeLessThanOrEqual(MAX_INCIDENT_BYTES);
      expect(jsonStringBytes(incident.description)).toBeLessThanOrEqual(MAX_DESCRIPTION_BYTES);
      expect(incident.description.startsWith('**')).toBe(true);
      expect(incident.description.endsWith(FOOTER)).toBe(true);
      expect(incident.message.length).toBeGreaterThan(0);
      expect(incident.event_id.length).toBeGreaterThan(0);
    });
  });

  it('reads the same whatever the receive time, except for the receive time itself', () => {
    const raw = { id: 'a', title: 't', created_at: 'x', severity: 1, organization_id: 'o', server_or_region: 'h', source: 'Host' };
    const early = toIncident(readAlert(raw, { receivedAt: new Date('2024-01-01T00:00:00Z') }));
    const late = toIncident(readAlert(raw, { receivedAt: new Date('2025-01-01T00:00:00Z') }));
    expect(early.description.replace('2024-01-01', '2025-01-01')).toBe(late.description);
  });
});
