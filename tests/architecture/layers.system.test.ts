import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { currentDiagram, DIAGRAM_PATH } from '../../scripts/layers-diagram';

/**
 * The house's layer rules, as dependency-cruiser checks them in `npm run lint` (.dependency-cruiser.cjs),
 * on the project and on a tree that breaks them on purpose (so a pass means something), and the
 * diagram in docs/architecture.md, generated from the same cruise.
 */
const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruiser.mjs');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

const cruise = (cwd: string, sources: readonly string[]): { status: number | null; output: string } => {
  const run = spawnSync(process.execPath, [CLI, ...sources, '--config', CONFIG, '--no-progress'], { cwd, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
};

describe('layer rules (dependency-cruiser)', () => {
  it('the project breaks none of them', () => {
    const result = cruise(ROOT, ['handlers', 'lib', 'local', 'scripts', 'bench', 'devkit']);

    expect(result.output).toMatch(/no dependency violations found \(\d+ modules, \d+ dependencies cruised\)/);
    expect(result.status).toBe(0);
  });

  it('finds every broken rule in a tree made to break them: a handler importing local/, a cycle through lib/common', () => {
    const result = cruise(join(__dirname, 'fixtures', 'broken'), ['handlers', 'lib', 'local']);

    expect(result.status).not.toBe(0);
    expect(result.output).toContain('error handlers-only-over-lib: handlers/ingest.ts → local/lambda-context.ts');
    expect(result.output).toContain('error common-stands-alone: lib/common/problems.ts → lib/alert/codec.ts');
    expect(result.output).toMatch(/error no-folder-cycle: lib\/common →\s+lib\/alert →\s+lib\/common/);
  });

  it('docs/architecture.md is the diagram of the current code and rules (npm run docs:layers writes it)', () => {
    const diagram = currentDiagram();

    expect(readFileSync(DIAGRAM_PATH, 'utf8')).toBe(diagram);
    expect(diagram).toContain('  handlers --> lib_runtime');
    expect(diagram).toContain('| `no-folder-cycle` |');
  });
});
