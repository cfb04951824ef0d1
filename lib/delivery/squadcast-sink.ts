import type { Secret } from '../common/secret';
import type { SquadcastIncident } from '../incident/to-incident';
import type { SendOutcome } from './send-outcome';
import { classifyError, classifyStatus } from './send-outcome';

export interface IncidentSink {
  send(incident: SquadcastIncident): Promise<SendOutcome>;
}

export interface SquadcastSinkOptions {
  /** The Incident Webhook URL; its path holds the API key, so it is a secret. */
  readonly url: Secret;
  readonly timeoutMs: number;
  readonly fetch?: typeof fetch;
  readonly now?: () => Date;
}

/** POSTs incidents to Squadcast's Incident Webhook, one request each, each with a timeout. */
export const createSquadcastSink = (options: SquadcastSinkOptions): IncidentSink => {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? (() => new Date());
  return {
    send: async (incident) => {
      try {
        const response = await doFetch(options.url.reveal(), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(incident),
          redirect: 'manual',
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        // Release the connection; the body of an answer is not documented and not needed.
        await response.arrayBuffer().catch(() => undefined);
        return classifyStatus(response.status, response.headers.get('retry-after'), now());
      } catch (error) {
        return classifyError(error);
      }
    },
  };
};
