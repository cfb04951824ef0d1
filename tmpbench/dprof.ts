import { fork, spawn } from 'node:child_process';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { build } from 'esbuild';
import { provision } from '../local/provision';
import { bundleWorker } from '../bench/bundles';
import { startFakeSquadcast } from '../bench/fake-squadcast';
import { median } from '../bench/stats';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
(async () => {
  await build({ entryPoints: ['handlers/deliver.ts'], bundle: true, minify: false, keepNames: true, platform: 'node', target: 'node22', format: 'cjs', mainFields: ['module', 'main'], outfile: '/tmp/bare/deliver-prof.js', logLevel: 'error' });
  await bundleWorker('bench/workers/deliver-worker.ts', '/tmp/bare/deliver-worker.js');
  const child = spawn('node_modules/.bin/tsx', ['bench/aws-process.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ep = JSON.parse(await new Promise<string>((r) => child.stdout.once('data', (d: Buffer) => r(d.toString()))));
  const sc = await startFakeSquadcast(50);
  const cfg = { region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } };
  const res = await provision(new SQSClient({ ...cfg, endpoint: ep.sqsEndpoint }), new DynamoDBClient({ ...cfg, endpoint: ep.dynamodbEndpoint }), 'p', { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 });
  const env = { PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'l', AWS_SECRET_ACCESS_KEY: 'l', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_ENDPOINT_URL_SQS: ep.sqsEndpoint, AWS_ENDPOINT_URL_DYNAMODB: ep.dynamodbEndpoint, ALERTS_QUEUE_URL: res.alertsQueueUrl, DEAD_LETTER_QUEUE_URL: res.deadLetterQueueUrl, ACTIVITY_TABLE_NAME: res.activityTableName, SQUADCAST_WEBHOOK_URL: sc.url, SQUADCAST_MAX_PER_MINUTE: '1000000', DELIVERY_CONCURRENCY: '10',
    BENCH_WORKER: JSON.stringify({ mode: 'rounds', bundlePath: process.env.BUNDLE ?? '/tmp/bare/deliver-prof.js', queueArn: 'arn:aws:sqs:us-east-1:000000000000:p', sqsProxy: ep.sqsEndpoint, dynamodbProxy: ep.dynamodbEndpoint, squadcastUrl: sc.url, warmupRounds: 5, rounds: Number(process.env.R ?? 21) }) };
  const r: any = await new Promise((resolve, reject) => { const c = fork('/tmp/bare/deliver-worker.js', [], { env, execArgv: process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/bare/dprof'] : [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }); c.on('message', resolve); c.on('exit', (code) => code && reject(code)); });
  console.log('h1', median(r.oneRecordMs).toFixed(1), 'h10', median(r.tenRecordsMs).toFixed(1), 'b1', median(r.bareOneRecordMs).toFixed(1), 'b10', median(r.bareTenRecordsMs).toFixed(1));
  child.kill(); await sc.stop();
})();
