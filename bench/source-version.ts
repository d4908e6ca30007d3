/**
 * Which code a benchmark measured: the commit, and the files of the handler (and its
 * bundling) that differed from it. Figures of a working tree in flux mean little without it.
 */
import { spawnSync } from 'node:child_process';

export interface SourceVersion {
  /** `git rev-parse HEAD`, or undefined outside a git checkout. */
  readonly commit: string | undefined;
  /** Uncommitted changes under functions/ and lib/ (`git status --porcelain` lines). */
  readonly uncommitted: readonly string[];
}

const git = (args: readonly string[]): string | undefined => {
  const result = spawnSync('git', args, { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
};

export const sourceVersion = (): SourceVersion => ({
  commit: git(['rev-parse', 'HEAD']),
  uncommitted: (git(['status', '--porcelain', '--', 'functions', 'lib']) ?? '')
    .split('\n')
    .filter((line) => line !== ''),
});
