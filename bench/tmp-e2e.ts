import { spawn } from 'node:child_process';
import { startFakeSquadcast } from './fake-squadcast';
import { runEndToEnd } from './end-to-end';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
(async () => {
  const child = spawn('node_modules/.bin/tsx', ['bench/aws-process.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line: string = await new Promise((r) => child.stdout.once('data', (d: Buffer) => r(d.toString())));
  const ep = JSON.parse(line);
  const squadcast = await startFakeSquadcast(50);
  try {
    const r = await runEndToEnd({ sqsEndpoint: ep.sqsEndpoint, dynamodbEndpoint: ep.dynamodbEndpoint, squadcast, squadcastDelayMs: 50, alertsPerPost: 10, throughputAlerts: Number(process.env.N ?? 3000), senders: 4, latencySeconds: 10, latencyLoadFraction: 0.5, relayEnv: { SQUADCAST_MAX_PER_MINUTE: '1000000' } });
    console.log(JSON.stringify(r, null, 1));
  } finally { child.kill(); await squadcast.stop(); }
})().catch((e) => { console.error(e); process.exit(1); });
