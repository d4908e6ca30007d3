/**
 * Every relative link in the repository's Markdown reaches a file that exists, and every link
 * to a heading (`performance.md#memory-size`, `#prices`) reaches a heading of that file, so a
 * section cannot be renamed or dropped while another doc still points at it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { anchorOf, headingsOf, REPO_ROOT, readRepoFile } from './support.js';

const markdown = execFileSync('git', ['ls-files', '*.md'], { cwd: fileURLToPath(REPO_ROOT), encoding: 'utf8' })
  .split('\n')
  .filter((path) => path !== '');

/** The anchors of a Markdown file: its headings' and its explicit `<a id>`s. */
const anchorsOf = (path: string): Set<string> => {
  const text = readRepoFile(path);
  return new Set([
    ...headingsOf(text.replace(/```[\s\S]*?```/g, '')).map(anchorOf),
    ...[...text.matchAll(/<a id="([^"]+)"><\/a>/g)].map((match) => match[1] as string),
  ]);
};

/** `[text](target)` links of a file, outside code blocks, that stay in the repository. */
const relativeLinks = (path: string): { readonly file: string; readonly anchor?: string }[] =>
  [
    ...readRepoFile(path)
      .replace(/```[\s\S]*?```/g, '')
      .matchAll(/\]\(([^)\s]+)\)/g),
  ]
    .map((match) => match[1] as string)
    .filter((target) => !/^[a-z]+:/i.test(target))
    .map((target) => {
      const [file, anchor] = target.split('#');
      const resolved =
        file === '' || file === undefined ? path : posix.normalize(posix.join(posix.dirname(path), file));
      return anchor === undefined ? { file: resolved } : { file: resolved, anchor };
    });

describe('links between the docs', () => {
  it('finds the Markdown files and their links', () => {
    expect(markdown).toEqual(expect.arrayContaining(['README.md', 'docs/performance.md', 'docs/deployment.md']));
    expect(relativeLinks('README.md').length).toBeGreaterThan(10);
  });

  it.each(markdown)('every relative link of %s reaches a file and its heading', (path) => {
    const broken = relativeLinks(path).flatMap(({ file, anchor }) => {
      if (!existsSync(new URL(file, REPO_ROOT))) return [`${file} (no such file)`];
      if (anchor === undefined || !file.endsWith('.md')) return [];
      return anchorsOf(file).has(anchor) ? [] : [`${file}#${anchor}`];
    });
    expect(broken).toEqual([]);
  });
});
