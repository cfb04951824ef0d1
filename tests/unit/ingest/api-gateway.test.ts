import type { APIGatewayProxyEvent } from 'aws-lambda';
import { SMOKE_TEST_MARK, toWebhookRequest } from '../../../lib/ingest/api-gateway';
import { anIngestEvent, SENTINEL, TEST_WEBHOOK_TOKEN, THREAT_STACK_IP } from '../../helpers/factories';

describe('toWebhookRequest', () => {
  it('reads the token from the path and the address from requestContext.identity.sourceIp', () => {
    const request = toWebhookRequest(anIngestEvent({ sourceIp: '198.51.100.7', body: '{"alerts":[]}' }));
    expect(request).toEqual({ sourceIp: '198.51.100.7', token: TEST_WEBHOOK_TOKEN, body: Buffer.from('{"alerts":[]}') });
  });

  it.each([
    ['X-Forwarded-For', { 'X-Forwarded-For': THREAT_STACK_IP }],
    ['x-forwarded-for, forged then real', { 'x-forwarded-for': `${THREAT_STACK_IP}, 203.0.113.9` }],
    ['X-Real-IP', { 'X-Real-IP': THREAT_STACK_IP }],
    ['Forwarded', { Forwarded: `for=${THREAT_STACK_IP}` }],
    ['True-Client-IP', { 'True-Client-IP': THREAT_STACK_IP }],
  ])('ignores %s: the address is the connection, never a header', (_name, headers) => {
    expect(toWebhookRequest(anIngestEvent({ sourceIp: '203.0.113.9', headers })).sourceIp).toBe('203.0.113.9');
  });

  it.each<[string, Partial<APIGatewayProxyEvent>, string | undefined]>([
    ['none', {}, undefined],
    ['Content-Encoding', { headers: { 'Content-Encoding': 'gzip' } }, 'gzip'],
    ['content-encoding, in lower case', { headers: { 'content-encoding': 'br' } }, 'br'],
    ['CONTENT-ENCODING, in upper case', { headers: { 'CONTENT-ENCODING': 'deflate' } }, 'deflate'],
    [
      'two lines, from multiValueHeaders (headers keeps only the last)',
      { headers: { 'Content-Encoding': 'identity' }, multiValueHeaders: { 'Content-Encoding': ['gzip', 'identity'] } },
      'gzip,identity',
    ],
    ['two spellings, in headers only', { headers: { 'content-encoding': 'gzip', 'Content-Encoding': 'identity' } }, 'gzip,identity'],
  ])('reads the Content-Encoding header whatever its case: %s', (_name, overrides, expected) => {
    const event = { ...anIngestEvent(), multiValueHeaders: {}, ...overrides };
    expect(toWebhookRequest(event).contentEncoding).toBe(expected);
  });

  it('decodes a base64 body to its bytes', () => {
    const bytes = Buffer.from([0x7b, 0x7d, 0xff, 0x00]);
    expect(toWebhookRequest(anIngestEvent({ body: bytes.toString('base64'), isBase64Encoded: true })).body).toEqual(bytes);
  });

  it('keeps a UTF-8 body as its bytes', () => {
    expect(toWebhookRequest(anIngestEvent({ body: '{"t":"é€😀"}' })).body).toEqual(Buffer.from('{"t":"é€😀"}', 'utf8'));
  });

  it('reads a missing body as empty', () => {
    expect(toWebhookRequest(anIngestEvent({ body: null })).body).toEqual(Buffer.alloc(0));
  });

  it('reads a missing path parameter as no token', () => {
    expect(toWebhookRequest(anIngestEvent({ token: null })).token).toBeUndefined();
  });

  it('never takes a token from a header or the query string', () => {
    const event = {
      ...anIngestEvent({ token: null, headers: { 'X-Webhook-Token': SENTINEL, Authorization: `Bearer ${SENTINEL}` } }),
      queryStringParameters: { token: SENTINEL },
    };
    expect(toWebhookRequest(event).token).toBeUndefined();
  });

  it('marks a smoke test only from requestContext, which API Gateway writes and no HTTP caller can', () => {
    const event = anIngestEvent({ headers: { relaySmokeTest: 'true', 'X-Relay-Smoke-Test': 'true' } });
    expect(toWebhookRequest(event).smokeTest).toBeUndefined();
    const marked = (value: unknown) =>
      ({ ...event, requestContext: { ...event.requestContext, [SMOKE_TEST_MARK]: value } }) as typeof event;
    expect(toWebhookRequest(marked(true)).smokeTest).toBe(true);
    expect(toWebhookRequest(marked('true')).smokeTest).toBeUndefined();
  });

  it('reads an event without identity as no address', () => {
    const event = anIngestEvent();
    const broken = { ...event, requestContext: { ...event.requestContext, identity: undefined } } as unknown as typeof event;
    expect(toWebhookRequest(broken).sourceIp).toBeUndefined();
  });
});
