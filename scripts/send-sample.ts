import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_DEFAULTS } from '../local/stack';

/** `npm run send-sample`: posts events/sample-batch.json (fresh ids, current time) to the running local stack. */
const main = async (): Promise<void> => {
  const port = process.env.PORT || LOCAL_DEFAULTS.PORT;
  const token = process.env.WEBHOOK_TOKEN || LOCAL_DEFAULTS.WEBHOOK_TOKEN;
  const sample = JSON.parse(readFileSync(join(__dirname, '..', 'events', 'sample-batch.json'), 'utf8')) as {
    alerts: Array<Record<string, unknown>>;
  };
  const stamp = Date.now();
  const alerts = sample.alerts.map((alert, i) => ({ ...alert, id: `sample-${stamp}-${i}`, created_at: stamp }));
  const response = await fetch(`http://127.0.0.1:${port}/threatstack/${encodeURIComponent(token)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ alerts }),
  });
  console.log(`${response.status} ${await response.text()}`);
  if (!response.ok) process.exitCode = 1;
};

main().catch((error: unknown) => {
  console.error(`could not reach the local relay on 127.0.0.1 (is npm start running?): ${(error as Error)?.message}`);
  process.exitCode = 1;
});
