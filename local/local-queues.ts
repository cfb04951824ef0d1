import * as t from 'io-ts';

/**
 * `GET /local/queues`: where the local stack's queues are, for `npm run redrive -- --local` and
 * `dead-letters --local`: endpoints, URLs, and the path of the file that holds the emulators'
 * per-start credentials (local/credentials-file.ts), never the credentials: nothing this route
 * gives can change state.
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
    /** Where the embedded emulators' per-start credentials are (a 0600 file): only the user running npm start can read them. */
    credentialsFile: t.string,
    /** The file where operator actions (a dead letter discarded) are recorded; absent for an ephemeral relay. */
    operationsLog: t.string,
  }),
]);
export type LocalQueues = t.TypeOf<typeof LocalQueuesCodec>;
