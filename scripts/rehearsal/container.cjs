// One "Lambda container" of the rehearsal: a plain Node process that loads a packaged bundle's
// handler (as Lambda's nodejs24.x runtime loads it), with the environment the stack gave the
// function, and invokes it for each event its parent sends over IPC. What the handler prints (log
// and metric lines) goes to stdout, which the parent reads. Plain CommonJS: nothing to build.
const { randomUUID } = require('node:crypto');

const [bundlePath, functionName] = process.argv.slice(2);
const { handler } = require(bundlePath);
if (typeof handler !== 'function') throw new Error(`${bundlePath} exports no handler`);

const context = () => ({
  functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:function:${functionName}`,
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '256',
  awsRequestId: randomUUID(),
  logGroupName: `/aws/lambda/${functionName}`,
  logStreamName: 'rehearsal',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

process.on('message', (message) => {
  Promise.resolve()
    .then(() => handler(message.event, context()))
    .then(
      (result) => process.send({ id: message.id, result }),
      (error) => process.send({ id: message.id, error: { name: error?.name ?? 'Error', message: String(error?.message ?? error) } }),
    );
});
process.send({ ready: true });
