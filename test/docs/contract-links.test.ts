/**
 * docs/contract.md is where the code and the docs point for the contract: every link into it
 * reaches a heading, every `§` a comment cites is a section of it, and nothing points at a
 * contract outside the repository.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { anchorOf, headingsOf, REPO_ROOT, readRepoFile } from './support.js';

const files = execFileSync('git', ['ls-files'], { cwd: fileURLToPath(REPO_ROOT), encoding: 'utf8' })
  .split('\n')
  .filter((path) => path !== '' && path !== 'package-lock.json' && !path.endsWith('.svg'));

const contract = readRepoFile('docs/contract.md');
const headings = headingsOf(contract);
const anchors = new Set([
  ...headings.map(anchorOf),
  ...[...contract.matchAll(/<a id="([^"]+)"><\/a>/g)].map((match) => match[1] as string),
]);
/** Section numbers of the contract's headings: `5`, `5.3`, `5.11`, … */
const sections = new Set(headings.flatMap((heading) => /^(\d+(?:\.\d+)*)\.? /.exec(heading)?.[1] ?? []));

const texts = files.map((path) => ({ path, text: readRepoFile(path) }));

describe('links into docs/contract.md', () => {
  it('numbers its sections', () => {
    expect([...sections]).toEqual(expect.arrayContaining(['1', '2.2', '5.3', '6.5', '9']));
  });

  it('every link to one of its anchors reaches a heading', () => {
    const broken = texts.flatMap(({ path, text }) =>
      [...text.matchAll(/contract\.md#([\w-]+)/g)]
        .map((match) => match[1] as string)
        .filter((anchor) => !anchors.has(anchor))
        .map((anchor) => `${path}: #${anchor}`),
    );
    expect(broken).toEqual([]);
  });

  it('every link inside it reaches one of its headings', () => {
    const broken = [...contract.matchAll(/\]\(#([\w-]+)\)/g)]
      .map((match) => match[1] as string)
      .filter((anchor) => !anchors.has(anchor));
    expect(broken).toEqual([]);
  });

  it('every section cited as docs/contract.md §N exists', () => {
    const broken = texts.flatMap(({ path, text }) =>
      [...text.matchAll(/contract(?:\.md)? (§[\d.]+(?:,? (?:and )?§[\d.]+)*)/g)]
        .flatMap((match) => (match[1] as string).match(/§\d+(?:\.\d+)*/g) ?? [])
        .map((cited) => cited.slice(1))
        .filter((section) => !sections.has(section))
        .map((section) => `${path}: §${section}`),
    );
    expect(broken).toEqual([]);
  });

  it('nothing points at a contract outside the repository', () => {
    const outside = new RegExp(['\\.\\./shared/', '\\bspec \\d', 'shared/spec', 'shared/seed'].join('|'), 'i');
    const pointing = texts
      .filter(({ path }) => path !== 'test/docs/contract-links.test.ts')
      .filter(({ text }) => outside.test(text))
      .map(({ path }) => path);
    expect(pointing).toEqual([]);
  });
});
