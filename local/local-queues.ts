import * as t from 'io-ts';

/**
 * `GET /local/queues`: where the local stack's queues are, for `npm run redrive -- --local`.
 * Endpoints, URLs and the emulators' per-start credentials: the route answers only requests that
 * name the relay as their host and carry no other origin (local/http-server.ts), so a web page cannot
 * read it.
 */
export const LocalQueuesCodec = t.intersection([
  t.type({
    sqsEndpoint: t.string,
    region: t.string,
    /** True when the endpoint is the embedded emulator. */
    embedded: t.boolean,
    alertsQueueUrl: t.string,
    deadLetterQueueUrl: t.string,
  }),
  t.partial({
    /** The embedded emulators' per-start credentials (they refuse any other): served to this machine's tools only. */
    credentials: t.type({ accessKeyId: t.string, secretAccessKey: t.string }),
    /** The file where operator actions (a dead letter discarded) are recorded; absent for an ephemeral relay. */
    operationsLog: t.string,
  }),
]);
export type LocalQueues = t.TypeOf<typeof LocalQueuesCodec>;
