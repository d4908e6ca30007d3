import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The SDK warns once per process that its 2027 releases need Node 22; Lambda runs a newer
// Node already, so in test output it is only noise (global setup runs in this process).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const ROOT = fileURLToPath(new URL('.', import.meta.url));

// Folders whose tests need no local stack: no java, no redis-server, nothing listening.
const UNIT_FOLDERS = ['test/unit', 'test/docs', 'test/bench', 'test/cdk'];
// Files in those folders that run with the stack all the same.
const NOT_UNIT = [
  // Runs the benchmark against the shared redis-server and DynamoDB Local (testStack()).
  'test/bench/bench.test.ts',
  // Its last test runs the bundled handler against the local stack (createHarness()).
  'test/cdk/bundling.test.ts',
  // Needs no stack, but takes ~45 s (npm pack builds; npm install of the tarball needs the
  // npm cache or registry) and calls tar: too slow, and needs too much, for a unit run.
  'test/cdk/package.test.ts',
];
const unitFiles = UNIT_FOLDERS.flatMap((folder) =>
  readdirSync(`${ROOT}${folder}`, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => `${folder}/${file.split('\\').join('/')}`),
).filter((file) => !NOT_UNIT.includes(file));

export default defineConfig({
  test: {
    // Shared by both projects (each one `extends: true`).
    pool: 'forks',
    // EMF lines from every invocation would bury the test output; the metrics test turns
    // them back on for itself.
    env: { POWERTOOLS_METRICS_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The JSON report (both projects) is where .ci/run reads its closing "N passed, N failed" line.
    reporters: ['default', 'json'],
    outputFile: { json: '.test-results/vitest.json' },
    projects: [
      {
        // `npm run test:unit`: no global setup, so it runs on a machine with neither java
        // nor redis-server.
        extends: true,
        test: {
          name: 'unit',
          include: unitFiles,
          // Files share a worker's module cache: aws-cdk-lib is loaded once per worker, not
          // once per file, which makes this run about three times faster. These files keep
          // no state between them (ops-commands' vi.mock is the only mock, and nothing else
          // here loads bin/ops.ts); `--sequence.shuffle` is how to check a new one.
          isolate: false,
        },
      },
      {
        // Every other test file. One DynamoDB Local, one redis-server and one
        // Upstash-compatible server for the whole run; every test file makes its own tables
        // and stream keys, so files run in parallel.
        extends: true,
        test: {
          name: 'stack',
          include: ['test/**/*.test.ts'],
          exclude: unitFiles,
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
