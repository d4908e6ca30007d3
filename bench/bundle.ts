/**
 * Bundles TypeScript entries the way the CDK construct bundles the Lambda handler
 * (lib/constructs/consumer-function.ts, NodejsFunction with local esbuild): one ESM file,
 * minified, for the function's Node version, AWS SDK included, with an external source map.
 */
import { build } from 'esbuild';
import type { BuildOptions, Plugin } from 'esbuild';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ESM_REQUIRE_BANNER, HANDLER_ENTRY } from '../lib/constructs/consumer-function.js';
import { runtimeMajor } from './handler-node.js';

/**
 * The esbuild options NodejsFunction derives from the construct's `bundling` props:
 * ESM, `mainFields: ['module', 'main']`, the `require` banner, minify, source map without
 * sources content, no external modules.
 */
const lambdaBuildOptions = (entry: string, outfile: string): BuildOptions => ({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  // NodejsFunction's target: `node<major>` of the runtime (`nodejs24.x` → `node24`).
  target: `node${runtimeMajor()}`,
  format: 'esm',
  mainFields: ['module', 'main'],
  banner: { js: ESM_REQUIRE_BANNER },
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  external: [],
  logLevel: 'silent',
});

export interface BundleInfo {
  /** The bundled file (`index.mjs`). */
  readonly path: string;
  /** Size of the code, the figure the size target is about. */
  readonly bytes: number;
  /** Size of its source map, shipped beside it. */
  readonly sourceMapBytes: number;
}

/**
 * Bundles `entry` into `outDir/<name>.mjs` (plus `.map`). `plugins` may change what an import
 * resolves to (the baseline's handler in place of this tree's: bench/baseline.ts).
 */
export const bundleEntry = async (
  entry: string,
  outDir: string,
  name: string,
  plugins: readonly Plugin[] = [],
): Promise<BundleInfo> => {
  const path = join(outDir, `${name}.mjs`);
  await build({ ...lambdaBuildOptions(entry, path), plugins: [...plugins] });
  return { path, bytes: statSync(path).size, sourceMapBytes: statSync(`${path}.map`).size };
};

/** Bundles the Lambda handler as the deployed asset's `index.mjs`. */
export const bundleHandler = async (outDir: string): Promise<BundleInfo> => bundleEntry(HANDLER_ENTRY, outDir, 'index');
