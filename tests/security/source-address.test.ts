import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import { Secret } from '../../lib/common/secret';
import { handleIngestEvent } from '../../lib/ingest/handle-ingest-event';
import type { IngestDeps } from '../../lib/ingest/ingest-webhook';
import { THREAT_STACK_SOURCE_IPS } from '../../lib/ingest/source-allowlist';
import { silentLogger } from '../helpers/delivery-simulation';
import { anAllowlist, anIngestEvent } from '../helpers/factories';
import { ingestHarness } from '../helpers/fakes';

/**
 * The caller is who the connection says (`requestContext.identity.sourceIp`), never what a header
 * claims. Checked through the whole ingest handler: an event in, an answer out.
 */
const TOKEN = 'source-address-token-0123456789';
const ALLOWED = [...THREAT_STACK_SOURCE_IPS, '10.1.0.0/16', '2001:db8:abcd::/48', '::ffff:198.51.100.7'];

const deps = (): IngestDeps => ingestHarness({ allowlist: anAllowlist(ALLOWED), token: new Secret(TOKEN) }).deps;

const statusFor = async (event: APIGatewayProxyEvent): Promise<number> =>
  (await handleIngestEvent(event, async () => deps(), silentLogger)).statusCode;

const withSource = (
  sourceIp: string | undefined,
  headers: Record<string, string> = {},
  multi: Record<string, string[]> = {},
): APIGatewayProxyEvent => {
  const event = anIngestEvent({ token: TOKEN, headers });
  const identity = { ...event.requestContext.identity } as Record<string, unknown>;
  if (sourceIp === undefined) delete identity.sourceIp;
  else identity.sourceIp = sourceIp;
  return {
    ...event,
    multiValueHeaders: { ...event.multiValueHeaders, ...multi },
    requestContext: { ...event.requestContext, identity: identity as unknown as APIGatewayProxyEvent['requestContext']['identity'] },
  };
};

const FORWARDING_HEADERS = [
  'X-Forwarded-For',
  'x-forwarded-for',
  'Forwarded',
  'X-Real-IP',
  'X-Client-IP',
  'True-Client-IP',
  'CF-Connecting-IP',
  'X-Originating-IP',
  'X-Cluster-Client-IP',
  'Client-IP',
];
const claimed = fc.constantFrom(...THREAT_STACK_SOURCE_IPS, '::ffff:52.20.173.142', '10.1.2.3', '2001:db8:abcd::1');
/** A header value naming allowed addresses in any position and any syntax. */
const forgedValue = fc
  .tuple(
    fc.array(fc.oneof(claimed, fc.constantFrom('203.0.113.9', 'unknown', '_hidden', '')), { minLength: 1, maxLength: 4 }),
    fc.constantFrom('plain', 'for=', 'for="[]"', 'port'),
  )
  .map(([addresses, syntax]) =>
    addresses
      .map((a) => (syntax === 'for=' ? `for=${a}` : syntax === 'for="[]"' ? `for="[${a}]"` : syntax === 'port' ? `${a}:443` : a))
      .join(syntax === 'for=' || syntax === 'for="[]"' ? ';' : ', '),
  );
const forgedHeaders = fc.dictionary(fc.constantFrom(...FORWARDING_HEADERS), forgedValue, { minKeys: 1 });

test('forged forwarding headers, in any position and syntax, never let an unlisted caller in', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('203.0.113.9', '127.0.0.1', '::1', '10.2.0.1', '2001:db8:abce::1', '::ffff:203.0.113.9'),
      forgedHeaders,
      async (sourceIp, headers) => {
        const multi = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value, ...THREAT_STACK_SOURCE_IPS]]));
        expect(await statusFor(withSource(sourceIp, headers, multi))).toBe(403);
      },
    ),
    { numRuns: 300 },
  );
});

test('a listed caller is let in whatever the headers claim', async () => {
  await fc.assert(
    fc.asyncProperty(claimed, forgedHeaders, async (sourceIp, headers) => {
      expect(await statusFor(withSource(sourceIp, { ...headers, 'X-Forwarded-For': '203.0.113.9' }))).toBe(200);
    }),
    { numRuns: 100 },
  );
});

test.each<[string, string | undefined, number]>([
  ['a Threat Stack address', '52.20.173.142', 200],
  ['its IPv4-mapped IPv6 form', '::ffff:52.20.173.142', 200],
  ['its IPv4-mapped form in hex (the same address)', '::ffff:3414:ad8e', 200],
  ['its IPv4-mapped form fully written', '0:0:0:0:0:ffff:52.20.173.142', 200],
  ['an entry given in IPv4-mapped form, called in IPv4', '198.51.100.7', 200],
  ['inside an IPv4 CIDR', '10.1.255.254', 200],
  ['inside an IPv4 CIDR, IPv4-mapped', '::ffff:10.1.0.9', 200],
  ['inside an IPv6 CIDR', '2001:db8:abcd:ffff::1', 200],
  ['inside an IPv6 CIDR, upper case', '2001:DB8:ABCD::1', 200],
  ['a neighbour', '52.20.173.143', 403],
  ['just outside the IPv4 CIDR', '10.2.0.0', 403],
  ['just outside the IPv6 CIDR', '2001:db8:abce::1', 403],
  ['IPv4-compatible IPv6 (not the same address)', '::52.20.173.142', 403],
  ['NAT64 form (not the same address)', '64:ff9b::52.20.173.142', 403],
  ['IPv4-translated form (not the same address)', '::ffff:0:52.20.173.142', 403],
  ['a zone index', 'fe80::1%eth0', 403],
  ['missing', undefined, 403],
  ['empty', '', 403],
  ['garbage', 'not-an-ip', 403],
  ['with a port', '52.20.173.142:443', 403],
  ['bracketed IPv6', '[::ffff:52.20.173.142]', 403],
  ['a list', '52.20.173.142, 203.0.113.9', 403],
  ['a list with the allowed address last', '203.0.113.9, 52.20.173.142', 403],
  ['a CIDR instead of an address', '52.20.173.142/32', 403],
  ['leading zeros', '052.020.173.142', 403],
  ['integer form', '873770382', 403],
  ['hex octets', '0x34.0x14.0xad.0x8e', 403],
  ['trailing newline', '52.20.173.142\n', 403],
  ['leading space', ' 52.20.173.142', 403],
])('source %s (%p): %p', async (_name, sourceIp, status) => {
  expect(await statusFor(withSource(sourceIp))).toBe(status);
});

test('a refusal never says why: the source and the token get the same answer', async () => {
  const bySource = await handleIngestEvent(withSource('203.0.113.9'), async () => deps(), silentLogger);
  const byToken = await handleIngestEvent(
    { ...withSource('52.20.173.142'), pathParameters: { token: 'wrong-token-0123456789012' } },
    async () => deps(),
    silentLogger,
  );
  expect(bySource).toEqual(byToken);
  expect(JSON.parse(bySource.body)).toEqual({ error: 'forbidden' });
});
