import { defineConfig } from 'vitest/config';

// The SDK warns once per process that its 2027 releases need Node 22; Lambda runs a newer
// Node already, so in test output it is only noise (global setup runs in this process).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One DynamoDB Local, one redis-server and one Upstash-compatible server for the whole
    // run; every test file makes its own tables and stream keys, so files run in parallel.
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    // EMF lines from every invocation would bury the test output; the metrics test turns
    // them back on for itself.
    env: { POWERTOOLS_METRICS_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 30_000,
    // The JSON report is where .ci/run reads its closing "N passed, N failed" line.
    reporters: ['default', 'json'],
    outputFile: { json: '.test-results/vitest.json' },
    hookTimeout: 60_000,
  },
});
