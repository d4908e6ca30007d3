/**
 * `npm run build` (and `prepack`, so `npm pack` runs it): the package's `dist/`.
 *
 * - JavaScript and declarations of the construct and the operator CLI, by `tsc` with
 *   tsconfig.build.json.
 * - The handler already bundled, in `dist/function-bundle/`, where the compiled construct
 *   finds it: an app that installs the package deploys this bundle and needs neither esbuild
 *   nor Docker. It is made by the construct's own bundling (`handlerFromSource`, NodejsFunction
 *   with the local esbuild), so the package ships exactly what a checkout deploys.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { handlerFromSource, PACKAGED_BUNDLE_FOLDER } from '../lib/constructs/consumer-function.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DIST = path.join(ROOT, 'dist');

/** Compiles lib/index.ts and bin/ops.ts with everything they import into dist/. */
const compile = (): void => {
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
};

/** Bundles the handler the way the construct does in a checkout, and copies the bundle to `target`. */
const bundle = (target: string): void => {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'start-flow-bundle-'));
  try {
    const app = new App({ outdir });
    const fn = handlerFromSource(new Stack(app, 'Bundle'), 'Handler', {});
    const asset = fn.node.findChild('Code') as s3assets.Asset;
    const staged = path.resolve(outdir, asset.assetPath);
    const files = readdirSync(staged).sort();
    if (files.join(',') !== 'index.mjs,index.mjs.map') {
      throw new Error(`the bundle in ${staged} holds ${files.join(', ')}, not index.mjs and its source map`);
    }
    cpSync(staged, target, { recursive: true });
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
};

rmSync(DIST, { recursive: true, force: true });
compile();
bundle(path.join(DIST, PACKAGED_BUNDLE_FOLDER));
if (!existsSync(path.join(DIST, 'lib/index.js')) || !existsSync(path.join(DIST, 'bin/ops.js'))) {
  throw new Error('the build left no dist/lib/index.js or dist/bin/ops.js');
}
console.log(`built ${path.relative(ROOT, DIST)}/: lib/, bin/ops.js, ${PACKAGED_BUNDLE_FOLDER}/index.mjs`);
