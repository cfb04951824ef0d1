import { spawn } from 'node:child_process';
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { provision } from '../local/provision';
import { startFakeSquadcast } from '../bench/fake-squadcast';
import { median } from '../bench/stats';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
(async () => {
  const child = spawn('node_modules/.bin/tsx', ['bench/aws-process.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ep = JSON.parse(await new Promise<string>((r) => child.stdout.once('data', (d: Buffer) => r(d.toString()))));
  const sc = await startFakeSquadcast(50);
  const cfg = { region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } };
  const ddb = new DynamoDBClient({ ...cfg, endpoint: process.env.DIRECT ? undefined : ep.dynamodbEndpoint });
  const res = await provision(new SQSClient({ ...cfg, endpoint: ep.sqsEndpoint }), ddb, 'x', { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 });
  const one = async (id: string) => {
    await ddb.send(new PutItemCommand({ TableName: res.activityTableName, Item: { pk: { S: id }, state: { S: 'in-flight' } }, ConditionExpression: 'attribute_not_exists(pk)' }));
    const r = await fetch(sc.url, { method: 'POST', body: JSON.stringify({ event_id: id }), headers: { 'content-type': 'application/json' } }); await r.arrayBuffer();
    await ddb.send(new UpdateItemCommand({ TableName: res.activityTableName, Key: { pk: { S: id } }, UpdateExpression: 'SET #s = :d', ExpressionAttributeNames: { '#s': 'state' }, ExpressionAttributeValues: { ':d': { S: 'delivered' } } }));
  };
  const batch = async (n: number) => { const t = performance.now(); await Promise.all(Array.from({ length: n }, () => one(crypto.randomUUID()))); return performance.now() - t; };
  const a: number[] = [], b: number[] = [], c: number[] = [];
  for (let i = 0; i < 26; i++) { const x = await batch(1); const y = await batch(10); if (i >= 5) { a.push(x); b.push(y); } }
  // dynamo only
  const dd = async (n: number) => { const t = performance.now(); await Promise.all(Array.from({ length: n }, () => ddb.send(new PutItemCommand({ TableName: res.activityTableName, Item: { pk: { S: crypto.randomUUID() } } })))); return performance.now() - t; };
  const d1: number[] = [], d10: number[] = [];
  for (let i = 0; i < 26; i++) { d1.push(await dd(1)); d10.push(await dd(10)); }
  console.log('bare deliver 1:', median(a).toFixed(1), '10:', median(b).toFixed(1), 'ratio', (median(b) / median(a)).toFixed(2));
  console.log('PutItem x1', median(d1).toFixed(1), 'x10 parallel', median(d10).toFixed(1));
  child.kill(); await sc.stop(); ddb.destroy();
})();
