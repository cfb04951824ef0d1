import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import { Secret } from '../../lib/common/secret';
import { handleIngestEvent } from '../../lib/ingest/handle-ingest-event';
import type { IngestDeps } from '../../lib/ingest/ingest-webhook';

import { matchToken, tokenMatches } from '../../lib/ingest/webhook-token';
import { silentLogger } from '../helpers/delivery-simulation';
import { anAllowlist, anIngestEvent } from '../helpers/factories';
import { ingestHarness } from '../helpers/fakes';

/** The token in the webhook path is the only secret a caller shows. Anything but the exact token is 403. */
const TOKEN = 'Tok3n_with-every.kind~of-char0123';

const deps = (): IngestDeps => ingestHarness({ allowlist: anAllowlist(), token: new Secret(TOKEN) }).deps;

const statusFor = async (event: APIGatewayProxyEvent): Promise<number> =>
  (await handleIngestEvent(event, async () => deps(), silentLogger)).statusCode;
const withToken = (token: string): APIGatewayProxyEvent => anIngestEvent({ token });

/** The token changed in one way an attacker or a broken client might try. */
const nearMiss = fc.oneof(
  fc.nat({ max: TOKEN.length - 1 }).map((i) => TOKEN.slice(0, i)),
  fc
    .tuple(fc.nat({ max: TOKEN.length - 1 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }))
    .map(([i, c]) => `${TOKEN.slice(0, i)}${c}${TOKEN.slice(i + 1)}`)
    .filter((t) => t !== TOKEN),
  fc
    .tuple(fc.nat({ max: TOKEN.length }), fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }))
    .map(([i, s]) => `${TOKEN.slice(0, i)}${s}${TOKEN.slice(i)}`),
  fc
    .nat({ max: TOKEN.length - 1 })
    .filter((i) => /[a-z]/i.test(TOKEN[i] ?? ''))
    .map(
      (i) =>
        `${TOKEN.slice(0, i)}${(TOKEN[i] ?? '') === (TOKEN[i] ?? '').toUpperCase() ? (TOKEN[i] ?? '').toLowerCase() : (TOKEN[i] ?? '').toUpperCase()}${TOKEN.slice(i + 1)}`,
    ),
  fc
    .nat({ max: TOKEN.length - 1 })
    .map((i) => `${TOKEN.slice(0, i)}%${(TOKEN.charCodeAt(i) || 0).toString(16).toUpperCase()}${TOKEN.slice(i + 1)}`),
  fc.constantFrom(
    '',
    TOKEN.toUpperCase(),
    TOKEN.toLowerCase(),
    `${TOKEN}\u0000`,
    `${TOKEN}%00`,
    `${TOKEN}/`,
    `/${TOKEN}`,
    ` ${TOKEN}`,
    `${TOKEN}\n`,
    `${TOKEN}${TOKEN}`,
    encodeURIComponent(encodeURIComponent(`${TOKEN}/`)),
    TOKEN.replace('o', '\u043e'), // Cyrillic o
    TOKEN.replace('T', '\uff34'), // fullwidth T
    TOKEN.normalize('NFKD').replace('.', '\u2024'),
    Buffer.from(TOKEN).toString('base64'),
  ),
  fc.string({ unit: 'binary', maxLength: 300 }),
);

test('anything but the exact token is refused with 403', async () => {
  await fc.assert(
    fc.asyncProperty(nearMiss, async (presented) => {
      fc.pre(presented !== TOKEN);
      expect(await statusFor(withToken(presented))).toBe(403);
    }),
    { numRuns: 500 },
  );
  expect(await statusFor(withToken(TOKEN))).toBe(200);
});

test.each<[string, APIGatewayProxyEvent['pathParameters']]>([
  ['no path parameters at all', null],
  ['no token parameter', {}],
  ['a token parameter set to undefined', { token: undefined }],
  ['an empty token', { token: '' }],
])('%s: 403', async (_name, pathParameters) => {
  expect(await statusFor({ ...withToken(TOKEN), pathParameters })).toBe(403);
});

test('the token is never taken from anywhere but the path: headers, query and body do not count', async () => {
  const event = anIngestEvent({
    token: 'wrong-token-0000000000000',
    headers: { Authorization: `Bearer ${TOKEN}`, 'X-Token': TOKEN },
    body: JSON.stringify({ token: TOKEN, alerts: [] }),
  });
  expect(await statusFor({ ...event, queryStringParameters: { token: TOKEN }, multiValueQueryStringParameters: { token: [TOKEN] } })).toBe(
    403,
  );
});

test('the comparison does the same work for every presented token, with or without a previous token, whichever matches: three SHA-256 digests and two timingSafeEqual of 32 bytes', () => {
  // The module object itself (an `import *` namespace would be a copy the code under test never calls).
  const nodeCrypto = require('node:crypto') as typeof import('node:crypto');
  const compare = jest.spyOn(nodeCrypto, 'timingSafeEqual');
  const hash = jest.spyOn(nodeCrypto, 'createHash');
  const PREVIOUS = 'Previous-token_0123456789';
  try {
    for (const previous of [undefined, new Secret(PREVIOUS)]) {
      for (const presented of [undefined, '', 'x', TOKEN.slice(0, -1), `${TOKEN.slice(0, -1)}X`, TOKEN, PREVIOUS, 'y'.repeat(100_000)]) {
        compare.mockClear();
        hash.mockClear();
        const matched = matchToken(presented, new Secret(TOKEN), previous);
        const expected = presented === TOKEN ? 'current' : previous !== undefined && presented === PREVIOUS ? 'previous' : undefined;
        expect(matched).toBe(expected);
        expect(tokenMatches(presented, new Secret(TOKEN))).toBe(presented === TOKEN);
        expect(hash.mock.calls.slice(0, 3)).toEqual([['sha256'], ['sha256'], ['sha256']]);
        expect(compare.mock.calls.slice(0, 2).map((call) => call.map((buffer) => (buffer as Buffer).length))).toEqual([
          [32, 32],
          [32, 32],
        ]);
        // tokenMatches is matchToken without a previous token: the same work again.
        expect(hash).toHaveBeenCalledTimes(6);
        expect(compare).toHaveBeenCalledTimes(4);
      }
    }
  } finally {
    compare.mockRestore();
    hash.mockRestore();
  }
});
