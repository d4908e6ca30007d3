/**
 * The real thing: runs bin/app.ts the way the CDK CLI does (a child process with CDK_OUTDIR and
 * CDK_CONTEXT_JSON), which bundles the handler with the local esbuild and runs cdk-nag. A
 * wrong handler path fails here, loudly, rather than skipping the bundling tests.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import type { SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ESM_REQUIRE_BANNER, HANDLER_ENTRY } from '../../lib/constructs/consumer-function.js';
import { createHarness } from '../support/consumer-harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX_CLI = path.join(ROOT, 'node_modules/tsx/dist/cli.mjs');

const cdkJson = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as {
  readonly app: string;
  readonly context: Record<string, unknown>;
};

describe('the handler entry the stack bundles', () => {
  it('exists', () => {
    expect(existsSync(HANDLER_ENTRY), HANDLER_ENTRY).toBe(true);
  });
});

describe('bin/app.ts with real esbuild bundling', () => {
  let outdir = '';
  let result: SpawnSyncReturns<string>;

  beforeAll(() => {
    // Outside the repository: no node_modules above it, so loading the bundle proves it is
    // self-contained.
    outdir = mkdtempSync(path.join(os.tmpdir(), 'start-flow-synth-'));
    result = spawnSync(process.execPath, [TSX_CLI, 'bin/app.ts'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify({
          ...cdkJson.context,
          upstashRedisRestUrl: 'https://eu1-example.upstash.io',
          gameMasterBaseUrl: 'https://gm.example.com',
        }),
        // No credentials and no Docker: bundling must not reach for either.
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
        CDK_DOCKER: 'docker-is-not-available',
      },
      timeout: 110_000,
    });
  }, 120_000);

  afterAll(() => {
    if (outdir !== '') rmSync(outdir, { recursive: true, force: true });
  });

  it('is what cdk.json runs', () => {
    expect(cdkJson.app).toBe('npx tsx bin/app.ts');
  });

  it('synthesizes without errors, cdk-nag included', () => {
    expect(result.error).toBeUndefined();
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
      readonly pluginReports: readonly { readonly pluginName: string; readonly violations: readonly unknown[] }[];
    };
    for (const plugin of report.pluginReports.filter((p) => ['AwsSolutions', 'Serverless'].includes(p.pluginName))) {
      expect(plugin.violations, plugin.pluginName).toEqual([]);
    }
  });

  it('bundles a minified ESM handler with a source map and a working require', () => {
    const assetDirs = readdirSync(outdir)
      .filter((name) => name.startsWith('asset.'))
      .map((name) => path.join(outdir, name))
      .filter((dir) => statSync(dir).isDirectory());
    expect(assetDirs).toHaveLength(1);
    const [assetDir = ''] = assetDirs;
    expect(readdirSync(assetDir).sort()).toEqual(['index.mjs', 'index.mjs.map']);

    const bundle = readFileSync(path.join(assetDir, 'index.mjs'), 'utf8');
    expect(bundle.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
    expect(bundle).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
    // Minified: a few very long lines rather than formatted source.
    expect(bundle.split('\n').length).toBeLessThan(100);

    const template = JSON.parse(readFileSync(path.join(outdir, 'GalaxyStartFlow-dev.template.json'), 'utf8')) as {
      readonly Resources: Record<string, { readonly Type: string; readonly Properties: Record<string, unknown> }>;
    };
    const functions = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(1);
    expect(functions[0]?.Properties).toMatchObject({
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
    });
    // The bundling path must not add variables of its own to the documented environment.
    const environment = functions[0]?.Properties.Environment as { readonly Variables: Record<string, unknown> };
    expect(Object.keys(environment.Variables).sort()).toEqual(
      [
        'BATCH_SIZE',
        'CONSUMER_MODE',
        'DEAD_LETTER_STREAM',
        'GAMES_TABLE',
        'GM_API_TOKEN_SECRET_ARN',
        'GM_BASE_URL',
        'GM_TIMEOUT_MS',
        'MAX_ATTEMPTS',
        'MAX_CONCURRENCY',
        'NODE_OPTIONS',
        'NOTIFICATION_INTENTS_STREAM',
        'OFFSETS_TABLE',
        'POLL_INTERVAL_MS',
        'POWERTOOLS_LOG_LEVEL',
        'POWERTOOLS_METRICS_NAMESPACE',
        'POWERTOOLS_SERVICE_NAME',
        'RESULTS_STREAM',
        'STAGE',
        'STOP_JOBS_STREAM',
        'TIME_BUDGET_MARGIN_MS',
        'UPSTASH_REDIS_REST_TOKEN_SECRET_ARN',
        'UPSTASH_REDIS_REST_URL',
      ].sort(),
    );
    expect(environment.Variables).not.toHaveProperty('AWS_LAMBDA_EXEC_WRAPPER');
  });

  it('loads on its own: the AWS SDK and every other dependency are inside the bundle', () => {
    const [assetDir = ''] = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
    const entry = path.join(outdir, assetDir, 'index.mjs');
    const output = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(entry)}); console.log(typeof m.handler);`],
      // Outside the repository, so nothing can be resolved from node_modules.
      { cwd: os.tmpdir(), encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 30_000 },
    );
    expect(output.trim()).toBe('function');
  });

  it('runs the start flow against the local stack from the bundle alone, in a fresh process', async () => {
    const [assetDir = ''] = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
    const entry = path.join(outdir, assetDir, 'index.mjs');
    const h = await createHarness();
    try {
      await h.putGame({ gameId: 'bundled', status: 'starting' });
      await h.addResult({ game_id: 'bundled', outcome: 'success', container_id: 'c-1', engine_endpoint: 'http://e/' });
      const script = `
        const { handler } = await import(${JSON.stringify(entry)});
        const deadline = Date.now() + 30000;
        const context = {
          awsRequestId: 'bundle-test', functionName: 'runtime-job-results', functionVersion: '$LATEST',
          invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:runtime-job-results',
          memoryLimitInMB: '1024', logGroupName: 'local', logStreamName: 'local',
          getRemainingTimeInMillis: () => deadline - Date.now(),
        };
        console.log(JSON.stringify(await handler({}, context)));`;
      // Asynchronously: the Game Master stub and the DynamoDB proxy live in this process.
      const { stdout: output } = await promisify(execFile)(
        process.execPath,
        ['--enable-source-maps', '--input-type=module', '-e', script],
        {
          cwd: os.tmpdir(),
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '', ...h.env, POWERTOOLS_METRICS_DISABLED: 'true' },
          timeout: 30_000,
        },
      );
      const summary = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
      expect(summary).toMatchObject({ entriesRead: 1, applied: 1, stoppedBy: 'drained' });
      expect(await h.getGame('bundled')).toMatchObject({ status: 'running', runtimeBinding: { containerId: 'c-1' } });
      expect(h.gameMaster.callsFor('bundled')).toHaveLength(1);
    } finally {
      await h.cleanup();
    }
  });
});
