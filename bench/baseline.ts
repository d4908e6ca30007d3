/**
 * `--baseline <git ref>`: another commit's handler, built the way this one's is, so the two
 * can be measured side by side in one session. The commit's tree is exported with
 * `git archive` into a folder of its own under the system's temporary directory (kept, by
 * commit, for the next run), its dependencies installed from its own lock file with
 * `npm ci`, and its handler bundled with this tree's esbuild options.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleEntry } from './bundle.js';
import type { BundleInfo } from './bundle.js';
import { bundleDrainChild } from './drain-process.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface Baseline {
  /** The ref as given, and the commit it named. */
  readonly ref: string;
  readonly commit: string;
  /** The drain child bundled with the baseline's handler. */
  readonly drainChild: string;
  /** The baseline's handler as the function would deploy it. */
  readonly bundle: BundleInfo;
}

const git = (...args: string[]): string => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();

/** The baseline's tree with its dependencies installed, made once per commit. */
const baselineTree = (commit: string, log: (line: string) => void): string => {
  const dir = join(os.tmpdir(), `start-flow-baseline-${commit.slice(0, 12)}`);
  const ready = join(dir, '.ready');
  if (existsSync(ready)) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`baseline ${commit.slice(0, 12)}: exporting the tree and installing its dependencies (npm ci)…`);
  execFileSync('sh', ['-c', `git archive ${commit} | tar -x -C "${dir}"`], { cwd: ROOT, stdio: 'inherit' });
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  execFileSync('touch', [ready]);
  return dir;
};

/** Prepares `ref`'s handler for a side-by-side run; its bundles go into `outDir`. */
export const prepareBaseline = async (ref: string, outDir: string, log: (line: string) => void): Promise<Baseline> => {
  const commit = git('rev-parse', '--verify', `${ref}^{commit}`);
  const dir = baselineTree(commit, log);
  const baselineOut = join(outDir, 'baseline');
  mkdirSync(baselineOut, { recursive: true });
  return {
    ref,
    commit,
    drainChild: await bundleDrainChild(baselineOut, dir),
    bundle: await bundleEntry(join(dir, 'functions/runtime-job-results/handler.ts'), baselineOut, 'index'),
  };
};
