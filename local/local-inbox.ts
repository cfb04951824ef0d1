/** Stands in for Squadcast when no SQUADCAST_WEBHOOK_URL is set: keeps and prints each incident. */
export interface LocalInbox {
  receive(body: string): { status: number; body: unknown };
  list(): readonly unknown[];
}

export const createLocalInbox = (print: (line: string) => void): LocalInbox => {
  const incidents: unknown[] = [];
  return {
    receive: (body) => {
      let incident: { message?: unknown; priority?: unknown; event_id?: unknown };
      try {
        incident = JSON.parse(body) as typeof incident;
      } catch {
        return { status: 400, body: { error: 'body is not valid JSON' } };
      }
      incidents.push(incident);
      print(`[local squadcast] incident ${String(incident.priority)} ${String(incident.event_id)}: ${String(incident.message)}`);
      return { status: 202, body: { status: 'accepted' } };
    },
    list: () => incidents,
  };
};
