import { Secret } from '../../../lib/common/secret';
import { checkWebhookToken, matchToken, tokenMatches, WEBHOOK_TOKEN_PATTERN } from '../../../lib/ingest/webhook-token';

const TOKEN = 'Abc-123_xyz.tok~en0';
const expected = new Secret(TOKEN);

describe('tokenMatches', () => {
  it.each<[string, string | undefined, boolean]>([
    ['the same token', TOKEN, true],
    ['a copy built at run time', ['Abc-123_xyz', '.tok~en0'].join(''), true],
    ['one character short', TOKEN.slice(0, -1), false],
    ['one character longer', `${TOKEN}0`, false],
    ['the same length, last character different', `${TOKEN.slice(0, -1)}1`, false],
    ['a different case', TOKEN.toUpperCase(), false],
    ['one letter in a different case', `a${TOKEN.slice(1)}`, false],
    ['empty', '', false],
    ['undefined (no path parameter)', undefined, false],
    ['URL-encoded (~ as %7E)', TOKEN.replace('~', '%7E'), false],
    ['URL-encoded (every character)', encodeURIComponent(TOKEN).replace(/[A-Za-z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16)}`), false],
    ['with a trailing slash', `${TOKEN}/`, false],
    ['with spaces around it', ` ${TOKEN} `, false],
    ['a prefix of it', TOKEN.slice(0, 4), false],
  ])('%s: %p', (_name, presented, matches) => {
    expect(tokenMatches(presented, expected)).toBe(matches);
  });

  it('refuses undefined even when the configured token is empty', () => {
    expect(tokenMatches(undefined, new Secret(''))).toBe(false);
    expect(tokenMatches('', new Secret(''))).toBe(true);
  });
});

describe('matchToken (current and previous token, during a rotation)', () => {
  const PREVIOUS = 'Old-token_0123456789';
  const previous = new Secret(PREVIOUS);

  it.each<[string, string | undefined, Secret | undefined, string | undefined]>([
    ['the current token, no previous one', TOKEN, undefined, 'current'],
    ['the current token, a previous one set', TOKEN, previous, 'current'],
    ['the previous token', PREVIOUS, previous, 'previous'],
    ['the previous token once it is deleted', PREVIOUS, undefined, undefined],
    ['neither', 'Some-other-token-0123', previous, undefined],
    ['the previous token one character short', PREVIOUS.slice(0, -1), previous, undefined],
    ['undefined, with a previous token', undefined, previous, undefined],
    ['both tokens equal (rotation step 1): current', TOKEN, new Secret(TOKEN), 'current'],
  ])('%s: %p', (_name, presented, previousToken, matched) => {
    expect(matchToken(presented, expected, previousToken)).toBe(matched);
  });

  it('refuses undefined even when both configured tokens are empty', () => {
    expect(matchToken(undefined, new Secret(''), new Secret(''))).toBeUndefined();
  });
});

describe('checkWebhookToken', () => {
  it('names the rule, never the value', () => {
    expect(checkWebhookToken(TOKEN)).toBeUndefined();
    expect(checkWebhookToken('short-Secret')).toBe('must be 16 to 256 URL-safe characters (A-Z a-z 0-9 . _ ~ -)');
  });
});

describe('WEBHOOK_TOKEN_PATTERN', () => {
  it.each<[string, boolean]>([
    ['a'.repeat(16), true],
    ['a'.repeat(256), true],
    [TOKEN, true],
    ['a'.repeat(15), false],
    ['a'.repeat(257), false],
    ['has/slash-in-it-ok', false],
    ['has space in it ok', false],
    ['percent%20encoded-x', false],
    ['unicode-ééééééééé', false],
    ['line\nbreak-0123456789', false],
  ])('%p: %p', (token, ok) => {
    expect(WEBHOOK_TOKEN_PATTERN.test(token)).toBe(ok);
  });
});
