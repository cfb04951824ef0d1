import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalInbox, localInboxKey } from '../../local/local-inbox';

const incident = (overrides: Record<string, unknown> = {}): string =>
  JSON.stringify({ message: 'Host: sudo to root', priority: 'P1', event_id: 'alert-1', status: 'trigger', ...overrides });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'relay-inbox-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("the local inbox (npm start's stand-in for Squadcast)", () => {
  it('has a new random key at every start', () => {
    const keys = new Set(Array.from({ length: 20 }, localInboxKey));
    expect(keys.size).toBe(20);
    for (const key of keys) expect(key).toMatch(/^[0-9a-f]{24}$/);
  });

  it('refuses an incident without its key (404, as Squadcast does), and keeps nothing', () => {
    const printed: string[] = [];
    const inbox = createLocalInbox((line) => printed.push(line), { key: 'right-key' });
    expect(inbox.receive('wrong-key', incident())).toEqual({
      status: 404,
      body: { error: 'not found: the API key in the URL is not this inbox’s' },
    });
    expect(inbox.receive('', incident())).toMatchObject({ status: 404 });
    expect(inbox.list()).toEqual([]);
    expect(printed).toEqual([]);
  });

  it('takes an incident with its key (202), prints one line and lists it; a body that is not JSON is 400', () => {
    const printed: string[] = [];
    const inbox = createLocalInbox((line) => printed.push(line), { key: 'k' });
    expect(inbox.receive('k', incident())).toEqual({ status: 202, body: { status: 'accepted' } });
    expect(inbox.receive('k', '{')).toEqual({ status: 400, body: { error: 'body is not valid JSON' } });
    expect(printed).toEqual(['[local squadcast] incident P1 alert-1: Host: sudo to root']);
    expect(inbox.list()).toEqual([JSON.parse(incident())]);
  });

  it('prints no control character from an alert: no recolouring, no title change, no erased or forged line', () => {
    const printed: string[] = [];
    const inbox = createLocalInbox((line) => printed.push(line), { key: 'k' });
    inbox.receive(
      'k',
      incident({ event_id: 'evil\u001b]0;owned\u0007\u001b[2K\rforged', message: 'red \u001b[31mtext\u001b[0m\nsecond line' }),
    );
    expect(printed).toHaveLength(1);
    expect([...(printed[0] ?? '')].filter((c) => c < ' ' || c === '\u007f')).toEqual([]);
    expect(printed[0]).toContain('evil]0;owned[2K forged');
  });

  it('keeps incidents in the data directory across a restart; a line cut short by a crash is skipped', () => {
    const file = join(dir, 'incidents.jsonl');
    const first = createLocalInbox(() => undefined, { file, key: 'k1' });
    first.receive('k1', incident({ event_id: 'a-1' }));
    first.receive('k1', incident({ event_id: 'a-2' }));
    appendFileSync(file, '{"message":"cut sh');
    const again = createLocalInbox(() => undefined, { file, key: 'k2' });
    expect(again.list().map((i) => (i as { event_id: string }).event_id)).toEqual(['a-1', 'a-2']);
    expect(again.receive('k1', incident())).toMatchObject({ status: 404 });
    // The next incident is not glued to the cut line: it is there after another restart.
    again.receive('k2', incident({ event_id: 'a-3' }));
    const third = createLocalInbox(() => undefined, { file, key: 'k3' });
    expect(third.list().map((i) => (i as { event_id: string }).event_id)).toEqual(['a-1', 'a-2', 'a-3']);
  });

  it('without a data directory (ephemeral) keeps them in memory only', () => {
    const inbox = createLocalInbox(() => undefined, { key: 'k' });
    inbox.receive('k', incident());
    expect(createLocalInbox(() => undefined, { key: 'k' }).list()).toEqual([]);
  });
});
