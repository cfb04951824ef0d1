import { resolve } from 'node:path';
import type { ImportEdge } from '../../scripts/check-layers';
import { checkLayers, folderGraph, folderOf, importsOf, NO_CYCLE, readImports, renderGraph, run } from '../../scripts/check-layers';

const ROOT = resolve(__dirname, '..', '..');

/** A synthetic import from one project file to another. */
const edge = (file: string, target: string): ImportEdge => ({ file, specifier: `./${target}`, target });

describe('the project keeps its layers (npm run check:layers)', () => {
  it('breaks no rule: no folder-level cycle, lib/common alone, lib/runtime only from the entry points', () => {
    const violations = checkLayers(readImports(ROOT));

    expect(
      violations.map(({ rule, cycle, imports }) => ({ rule, cycle, imports: imports.map((i) => `${i.file} → ${i.specifier}`) })),
    ).toEqual([]);
  });

  it('reads the imports that make the graph: handlers wire through lib/runtime, lib/common imports nothing of ours', () => {
    const graph = folderGraph(readImports(ROOT));

    expect(graph.get('handlers')?.has('lib/runtime')).toBe(true);
    expect(graph.get('local')?.has('handlers')).toBe(true);
    expect([...(graph.get('lib/common')?.keys() ?? [])]).toEqual([]);
  });

  it('prints the graph and says ok for every rule, exit code 0', () => {
    const lines: string[] = [];

    const code = run(ROOT, (line) => lines.push(line));

    expect(code).toBe(0);
    expect(lines.filter((line) => /^ {2}(ok|BROKEN) /.test(line))).toEqual([
      `  ok      ${NO_CYCLE}`,
      '  ok      lib/common imports nothing from the other lib folders',
      '  ok      only handlers/ and local/ import lib/runtime (the composition root)',
      '  ok      lib/ never imports local/, scripts/, bench/ or tests/',
      '  ok      handlers/ import only from lib/',
    ]);
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}lib\/common +→ \(nothing of ours\)$/));
  });
});

describe('checkLayers can fail', () => {
  it('finds a folder-level cycle and names the imports that make it', () => {
    const imports = [
      edge('lib/delivery/deliver-batch.ts', 'lib/queue/messages.ts'),
      edge('lib/queue/messages.ts', 'lib/alert/codec.ts'),
      edge('lib/alert/codec.ts', 'lib/delivery/send-outcome.ts'),
      edge('lib/alert/codec.ts', 'lib/common/checked.ts'),
    ];

    expect(checkLayers(imports)).toEqual([
      {
        rule: NO_CYCLE,
        cycle: ['lib/alert', 'lib/delivery', 'lib/queue'],
        imports: [imports[2], imports[0], imports[1]],
      },
    ]);
  });

  it('reports one cycle for each group of folders that import each other', () => {
    const imports = [
      edge('lib/a/x.ts', 'lib/b/x.ts'),
      edge('lib/b/x.ts', 'lib/a/x.ts'),
      edge('lib/b/x.ts', 'lib/c/x.ts'),
      edge('lib/c/x.ts', 'lib/a/x.ts'),
      edge('local/x.ts', 'scripts/x.ts'),
      edge('scripts/x.ts', 'local/x.ts'),
    ];

    expect(checkLayers(imports).map((violation) => violation.cycle)).toEqual([
      ['lib/a', 'lib/b'],
      ['local', 'scripts'],
    ]);
  });

  it('finds no cycle in imports within one folder', () => {
    expect(checkLayers([edge('lib/queue/a.ts', 'lib/queue/b.ts'), edge('lib/queue/b.ts', 'lib/queue/a.ts')])).toEqual([]);
  });

  it.each([
    ['lib/common/backoff.ts', 'lib/alert/codec.ts', 'lib/common imports nothing from the other lib folders'],
    [
      'lib/delivery/deliver-batch.ts',
      'lib/runtime/deliver-runtime.ts',
      'only handlers/ and local/ import lib/runtime (the composition root)',
    ],
    ['scripts/status.ts', 'lib/runtime/status-runtime.ts', 'only handlers/ and local/ import lib/runtime (the composition root)'],
    ['bench/run.ts', 'lib/runtime/ingest-runtime.ts', 'only handlers/ and local/ import lib/runtime (the composition root)'],
    ['lib/status/read-status.ts', 'local/describe-time.ts', 'lib/ never imports local/, scripts/, bench/ or tests/'],
    ['lib/queue/messages.ts', 'scripts/cli.ts', 'lib/ never imports local/, scripts/, bench/ or tests/'],
    ['lib/ingest/api-gateway.ts', 'bench/alerts.ts', 'lib/ never imports local/, scripts/, bench/ or tests/'],
    ['lib/alert/codec.ts', 'tests/helpers/factories.ts', 'lib/ never imports local/, scripts/, bench/ or tests/'],
    ['handlers/ingest.ts', 'local/lambda-context.ts', 'handlers/ import only from lib/'],
    ['handlers/status.ts', 'scripts/format-status.ts', 'handlers/ import only from lib/'],
  ])('%s → %s breaks "%s"', (file, target, rule) => {
    const imports = [edge(file, target)];

    expect(checkLayers(imports)).toEqual([{ rule, imports }]);
  });

  it.each([
    ['handlers/ingest.ts', 'lib/runtime/ingest-runtime.ts'],
    ['local/stack.ts', 'lib/runtime/deliver-runtime.ts'],
    ['local/stack.ts', 'handlers/deliver.ts'],
    ['lib/runtime/ingest-runtime.ts', 'lib/common/once.ts'],
    ['scripts/status.ts', 'local/stack.ts'],
    ['bench/run.ts', 'lib/ingest/ingest-webhook.ts'],
  ])('%s → %s is allowed', (file, target) => {
    expect(checkLayers([edge(file, target)])).toEqual([]);
  });

  it('prints BROKEN with the import and exits 1 on a real tree that breaks a rule', () => {
    const lines: string[] = [];

    const code = run(resolve(ROOT, 'tests', 'architecture', 'fixtures', 'broken'), (line) => lines.push(line));

    expect(code).toBe(1);
    expect(lines).toContain('  BROKEN  handlers/ import only from lib/');
    expect(lines).toContain("            handlers/ingest.ts imports '../local/lambda-context'");
    expect(lines).toContain('            lib/alert → lib/common → lib/alert');
  });
});

describe('reading imports', () => {
  it('finds every kind of import, type-only too, and nothing in comments or strings', () => {
    const source = [
      "import type { Alert } from '../alert/codec';",
      'import {',
      '  backoff,',
      "} from '../common/backoff';",
      "export * from './a';",
      "export { b } from './b';",
      "export type { C } from './c';",
      "// import { nope } from '../local/stack';",
      'const text = "from \'../scripts/cli\'";',
      "const d = () => import('./d');",
      "const e = require('./e');",
      "type F = typeof import('./f');",
      "import g = require('./g');",
      "import { SQSClient } from '@aws-sdk/client-sqs';",
    ].join('\n');

    expect(importsOf(source)).toEqual([
      '../alert/codec',
      '../common/backoff',
      './a',
      './b',
      './c',
      './d',
      './e',
      './f',
      './g',
      '@aws-sdk/client-sqs',
    ]);
  });

  it.each([
    ['lib/alert/codec.ts', 'lib/alert'],
    ['lib/alert', 'lib/alert'],
    ['lib/index.ts', 'lib'],
    ['handlers/ingest.ts', 'handlers'],
    ['bench/workers/ingest-worker.ts', 'bench'],
    ['tests/helpers/fakes.ts', 'tests'],
  ])('%s is in folder %s', (path, folder) => {
    expect(folderOf(path)).toBe(folder);
  });

  it('draws lower layers first', () => {
    const graph = folderGraph([
      edge('handlers/ingest.ts', 'lib/ingest/x.ts'),
      edge('lib/ingest/x.ts', 'lib/common/y.ts'),
      edge('handlers/ingest.ts', 'lib/common/y.ts'),
    ]);

    expect(renderGraph(graph)).toEqual([
      'lib/common  → (nothing of ours)',
      'lib/ingest  → lib/common',
      'handlers    → lib/common, lib/ingest',
    ]);
  });
});
