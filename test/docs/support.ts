/** Reading the repository's Markdown for the docs checks. */
import { readFileSync } from 'node:fs';

export const REPO_ROOT = new URL('../../', import.meta.url);

/** The Lambda function's folder, from the root. */
export const FUNCTION_DIR = 'functions/runtime-job-results/';

/** A file of the repository as text, by its path from the root (`docs/runbook.md`). */
export const readRepoFile = (path: string): string => readFileSync(new URL(path, REPO_ROOT), 'utf8');

/** The Markdown headings of `text`, without their leading `#`s. */
export const headingsOf = (text: string): string[] =>
  text
    .split('\n')
    .filter((line) => /^#{1,6} /.test(line))
    .map((line) => line.replace(/^#{1,6} /, '').trim());

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
export const anchorOf = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
