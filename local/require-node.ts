/**
 * Imported first by `local/main.ts`, before anything that loads `node:sqlite`: the embedded SQS
 * emulator persists with it (Node >= 22.5). `npm start` runs on the Node the project pins (the
 * `node` package, 24, as Lambda's nodejs24.x); `tsx local/main.ts` under an older system Node
 * would otherwise fail on a missing built-in module, with a stack trace.
 */
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 5)) {
  console.error(
    `relay failed to start: Node ${process.version} is too old (the relay needs 22.5 or newer); ` +
      "run it with `npm start`, which uses the project's Node 24",
  );
  process.exit(1);
}
