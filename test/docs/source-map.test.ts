/**
 * The README's source map lists every top-level folder of the repository and every folder of
 * the function, so a folder cannot be added (or removed) without the map saying so; and every
 * file it names is one the repository has, so a rename cannot leave the map pointing nowhere.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FUNCTION_DIR, REPO_ROOT, readRepoFile } from './support.js';

/** The tracked files, from git: what a clone has, without build output or node_modules. */
const trackedFiles = (): string[] =>
  execFileSync('git', ['ls-files'], { cwd: fileURLToPath(REPO_ROOT), encoding: 'utf8' })
    .split('\n')
    .filter((path) => path !== '');

/** The first folder of each path under `prefix` that has one. */
const foldersUnder = (paths: readonly string[], prefix: string): string[] => [
  ...new Set(
    paths
      .filter((path) => path.startsWith(prefix) && path.slice(prefix.length).includes('/'))
      .map((path) => path.slice(prefix.length).split('/')[0] as string),
  ),
];

/** The lines of the code block under the README's "Source map" heading. */
const sourceMap = (): string[] => {
  const readme = readRepoFile('README.md');
  const section = readme.slice(readme.indexOf('## Source map'));
  const block = /```\n([\s\S]*?)\n```/.exec(section);
  return (block?.[1] ?? '').split('\n');
};

const files = trackedFiles();
const map = sourceMap();

/** A map line that starts with `folder/` (after its indentation, or after another `path, `). */
const listed = (folder: string): boolean =>
  map.some((line) => new RegExp(`(^\\s*|, )${folder.replace(/\./g, '\\.')}/`).test(line));

describe("the README's source map", () => {
  it('is found', () => {
    expect(map.length).toBeGreaterThan(10);
  });

  it.each(foldersUnder(files, ''))('lists the top-level folder %s/', (folder) => {
    expect(listed(folder), `README's source map has no line for ${folder}/`).toBe(true);
  });

  it.each(foldersUnder(files, FUNCTION_DIR))(`lists ${FUNCTION_DIR}%s/`, (folder) => {
    expect(listed(folder), `README's source map has no line for ${folder}/`).toBe(true);
  });

  it('lists only folders that exist', () => {
    const named = map.flatMap((line) => /^\s*([\w.-]+(?:\/[\w.-]+)*)\/\s/.exec(line)?.[1] ?? []);
    const missing = named.filter(
      (folder) =>
        !existsSync(new URL(`${folder}/`, REPO_ROOT)) && !existsSync(new URL(`${FUNCTION_DIR}${folder}/`, REPO_ROOT)),
    );
    expect(named.length).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  it('names only files that exist', () => {
    // `run-invocation.ts`, `cdk.json`, `latency*.ts`: a tracked file must end in each.
    const names = [...new Set(map.flatMap((line) => line.match(/[\w.*-]+\.(?:ts|json)\b/g) ?? []))];
    const missing = names.filter((name) => {
      const pattern = new RegExp(`(^|/)${name.replace(/\./g, '\\.').replace(/\*/g, '[\\w-]*')}$`);
      return !files.some((path) => pattern.test(path));
    });
    expect(names.length).toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });
});
