import * as t from 'io-ts';

/**
 * `GET /local/queues`: where the local stack's queues are, for `npm run redrive -- --local`.
 * Endpoints and URLs only, never a secret.
 */
export const LocalQueuesCodec = t.type({
  sqsEndpoint: t.string,
  region: t.string,
  /** True when the endpoint is the embedded emulator, which takes any credentials. */
  embedded: t.boolean,
  alertsQueueUrl: t.string,
  deadLetterQueueUrl: t.string,
});
export type LocalQueues = t.TypeOf<typeof LocalQueuesCodec>;
