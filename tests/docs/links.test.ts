import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/**
 * Every relative link in the project's Markdown leads somewhere: the file exists and, when the link
 * names a heading (`file.md#anchor` or `#anchor`), that heading exists, spelled as GitHub makes its
 * anchors. The README is split across docs/; a section moved or renamed must take its links along.
 */
const ROOT = join(__dirname, '..', '..');
const SKIPPED = new Set(['node_modules', '.git', 'tmp', '.relay-data', '.serverless', 'coverage', 'fixtures']);

const markdownFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (SKIPPED.has(name) || name.startsWith('.')) return [];
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith('.md') ? [path] : [];
  });

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
const anchorsOf = (markdown: string): Set<string> => {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const withoutCode = markdown.replace(/^```[\s\S]*?^```/gm, '');
  for (const [, heading = ''] of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = heading
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
};

/** Relative links `[text](target)` outside code blocks and code spans. */
const linksOf = (markdown: string): string[] =>
  [
    ...markdown
      .replace(/^```[\s\S]*?^```/gm, '')
      .replace(/`[^`\n]*`/g, '')
      .matchAll(/\]\(([^)\s]+)\)/g),
  ]
    .map(([, target = '']) => target)
    .filter((target) => !/^[a-z]+:/i.test(target));

const files = markdownFiles(ROOT);

describe('links between the documents', () => {
  it('finds the documents (README, docs/, events/)', () => {
    const names = files.map((file) => relative(ROOT, file));
    expect(names).toEqual(expect.arrayContaining(['README.md', 'docs/operator-guide.md', 'docs/local.md', 'events/README.md']));
  });

  it.each(files.map((file): [string, string] => [relative(ROOT, file), file]))(
    '%s: every relative link and anchor resolves',
    (_name, file) => {
      const broken = linksOf(readFileSync(file, 'utf8')).filter((link) => {
        const [path = '', anchor] = link.split('#', 2);
        const target = path === '' ? file : join(dirname(file), decodeURIComponent(path));
        if (!existsSync(target)) return true;
        if (anchor === undefined || !target.endsWith('.md')) return false;
        return !anchorsOf(readFileSync(target, 'utf8')).has(anchor);
      });
      expect(broken).toEqual([]);
    },
  );
});

describe('anchorsOf', () => {
  it('spells anchors as GitHub does', () => {
    const anchors = anchorsOf(
      ['# Operator guide', '## 1. Create the Squadcast alert source', '### Inspect: `npm run dead-letters`', '## FAQ', '## FAQ'].join('\n'),
    );
    expect([...anchors]).toEqual(['operator-guide', '1-create-the-squadcast-alert-source', 'inspect-npm-run-dead-letters', 'faq', 'faq-1']);
  });

  it('ignores headings inside code blocks', () => {
    expect([...anchorsOf('```sh\n# a comment\n```\n## Real')]).toEqual(['real']);
  });
});
