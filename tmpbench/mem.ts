import { fork, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { build } from 'esbuild';
import { provision } from '../local/provision';
import { makeAlerts, webhookBody } from '../bench/alerts';
import { bundleWorker } from '../bench/bundles';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
(async () => {
  await build({ entryPoints: ['handlers/ingest.ts'], bundle: true, minify: true, keepNames: true, platform: 'node', target: 'node22', format: 'cjs', mainFields: ['module', 'main'], outfile: '/tmp/bare/ingest-mem.js', logLevel: 'error' });
  await bundleWorker('bench/workers/ingest-worker.ts', '/tmp/bare/ingest-worker.js');
  const child = spawn('node_modules/.bin/tsx', ['bench/aws-process.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ep = JSON.parse(await new Promise<string>((r) => child.stdout.once('data', (d: Buffer) => r(d.toString()))));
  const cfg = { region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } };
  const res = await provision(new SQSClient({ ...cfg, endpoint: ep.sqsEndpoint }), new DynamoDBClient({ ...cfg, endpoint: ep.dynamodbEndpoint }), 'm', { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 });
  for (const n of (process.env.SIZES ?? '1000,10000,15000').split(',').map(Number)) {
    writeFileSync('/tmp/bare/body.json', webhookBody(makeAlerts(n)));
    const env = { PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'l', AWS_SECRET_ACCESS_KEY: 'l', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_ENDPOINT_URL_SQS: ep.sqsEndpoint, ALERTS_QUEUE_URL: res.alertsQueueUrl, DEAD_LETTER_QUEUE_URL: res.deadLetterQueueUrl, WEBHOOK_TOKEN: 'bench-webhook-token-0123456789', BENCH_WORKER: JSON.stringify({ mode: 'memory', bundlePath: '/tmp/bare/ingest-mem.js', token: 'bench-webhook-token-0123456789', bodyFile: '/tmp/bare/body.json' }) };
    const t = performance.now();
    const r: any = await new Promise((resolve, reject) => { const c = fork('/tmp/bare/ingest-worker.js', [], { env, execArgv: ['--expose-gc', ...(process.env.EXTRA ? [process.env.EXTRA] : [])], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }); c.on('message', resolve); c.on('exit', (code) => code && reject(code)); });
    console.log(n, 'status', r.status, 'body MiB', (r.bodyBytes / 2 ** 20).toFixed(2), 'before', (r.rssBeforeBytes / 2 ** 20).toFixed(1), 'peak', (r.peakRssBytes / 2 ** 20).toFixed(1), 'ms', (performance.now() - t).toFixed(0));
  }
  child.kill();
})();
