import { spawnSync } from 'node:child_process';

/** Why lib/common/json.ts exists, checked on the Node the project pins. */
describe('native JSON.parse', () => {
  it('canary: native JSON.parse still misreads an escaped key after one of its shape (nodejs/node#63785); when this fails, the bug is fixed: delete lib/common/json.ts and call JSON.parse', () => {
    // In a plain process of this Node: jest's module sandbox does not show the bug.
    const script = String.raw`JSON.parse('{"k\\\\":1}'); console.log(JSON.stringify(Object.keys(JSON.parse('{"k\\uffff":2}'))))`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    const keys = JSON.parse(run.stdout) as string[];
    expect(keys.map((key) => [...key].map((char) => char.codePointAt(0)))).toEqual([[0x6b, 0x5c]]);
  });
});
