/**
 * The package as a platform team gets it: `npm pack` (its prepack build), the tarball
 * installed into a fresh CDK app outside the repository, and that app synthesized as an ES
 * module and as CommonJS with the team's own table, key, secret, VPC and topic. The app gets
 * the repository's aws-cdk-lib and constructs by symlink (they are peer dependencies, so one
 * copy of each is what an app has anyway); everything else comes from the tarball's install.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipSlow } from '../support/slow.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

const TABLE_KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:platform-oncall';

/** The team's app, written once as an ES module and once as CommonJS. */
const appBody = `
const app = new App({ outdir: process.argv[2] });
const stack = new Stack(app, 'Platform', { env: { account: '123456789012', region: 'eu-west-1' } });
const gamesTable = dynamodb.Table.fromTableAttributes(stack, 'Games', {
  tableName: 'lobby-prod-games',
  encryptionKey: kms.Key.fromKeyArn(stack, 'TableKey', '${TABLE_KEY_ARN}'),
});
const token = secretsmanager.Secret.fromSecretCompleteArn(
  stack, 'Token', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:galaxy/prod/upstash-AbCdEf');
const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
  vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-1a'], privateSubnetIds: ['subnet-0123456789abcdef0'],
});
new StartFlowConsumer(stack, 'StartFlow', {
  gamesTable,
  upstash: { restUrl: 'https://eu1-example.upstash.io', token },
  gameMaster: { baseUrl: 'https://gm.internal.example.com' },
  vpc,
  securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-0123456789abcdef0')],
  alarmTopic: sns.Topic.fromTopicArn(stack, 'OnCall', '${TOPIC_ARN}'),
  stage: 'prod',
});
app.synth();
`;
const MODULES = ['aws-dynamodb', 'aws-ec2', 'aws-kms', 'aws-secretsmanager', 'aws-sns'];
const alias = (module: string) => module.replace('aws-', '');

const ESM_APP = `import { App, Stack } from 'aws-cdk-lib';
${MODULES.map((module) => `import * as ${alias(module)} from 'aws-cdk-lib/${module}';`).join('\n')}
import { StartFlowConsumer } from 'galaxy-start-flow-consumer';
${appBody}`;

const CJS_APP = `const { App, Stack } = require('aws-cdk-lib');
${MODULES.map((module) => `const ${alias(module)} = require('aws-cdk-lib/${module}');`).join('\n')}
const { StartFlowConsumer } = require('galaxy-start-flow-consumer');
${appBody}`;

/** A TypeScript app: compiles against the package's declarations, and they are real types. */
const TS_APP = `import { App, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { StartFlowConsumer, StartFlowConsumerPropError } from 'galaxy-start-flow-consumer';
import type { StartFlowConsumerProps } from 'galaxy-start-flow-consumer';

const stack = new Stack(new App(), 'Platform');
const props: StartFlowConsumerProps = {
  gamesTable: dynamodb.Table.fromTableName(stack, 'Games', 'lobby-prod-games'),
  upstash: { restUrl: 'https://eu1-example.upstash.io', token: secretsmanager.Secret.fromSecretNameV2(stack, 'T', 'x') },
  gameMaster: { baseUrl: 'https://gm.example.com' },
};
const consumer: StartFlowConsumer = new StartFlowConsumer(stack, 'StartFlow', props);
const functionName: string = consumer.function.functionName;
const error: Error = new StartFlowConsumerPropError('stage', 'bad');
// @ts-expect-error the games table is an ITable, never a name
const wrong: StartFlowConsumerProps = { ...props, gamesTable: 'lobby-prod-games' };
export { error, functionName, wrong };
`;

interface Template {
  readonly Resources: Record<string, { readonly Type: string; readonly Properties: Record<string, unknown> }>;
}

let work = '';
let tarballFiles: string[] = [];
const templates: Record<'esm' | 'cjs', Template> = { esm: { Resources: {} }, cjs: { Resources: {} } };
const outdirs = { esm: '', cjs: '' };
let appDir = '';

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'start-flow-package-'));
  // npm pack runs prepack: the build into dist/, then the tarball of what `files` names.
  await run('npm', ['pack', '--pack-destination', work, '--no-fund', '--no-audit'], {
    cwd: ROOT,
    timeout: 150_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const [tarball = ''] = readdirSync(work).filter((name) => name.endsWith('.tgz'));
  tarballFiles = (await run('tar', ['-tzf', path.join(work, tarball)], { maxBuffer: 16 * 1024 * 1024 })).stdout
    .split('\n')
    .filter((line) => line !== '');

  appDir = path.join(work, 'app');
  mkdirSync(appDir);
  writeFileSync(
    path.join(appDir, 'package.json'),
    JSON.stringify({ name: 'platform-app', private: true, type: 'module' }),
  );
  // The peers are left out (--legacy-peer-deps) and linked below; no install script may run.
  await run(
    'npm',
    [
      'install',
      path.join(work, tarball),
      '--legacy-peer-deps',
      '--prefer-offline',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
    ],
    { cwd: appDir, timeout: 150_000 },
  );
  for (const peer of ['aws-cdk-lib', 'constructs']) {
    symlinkSync(path.join(ROOT, 'node_modules', peer), path.join(appDir, 'node_modules', peer), 'dir');
  }
  writeFileSync(path.join(appDir, 'app.mjs'), ESM_APP);
  writeFileSync(path.join(appDir, 'app.cjs'), CJS_APP);
  writeFileSync(path.join(appDir, 'app.ts'), TS_APP);
  for (const kind of ['esm', 'cjs'] as const) {
    outdirs[kind] = path.join(work, `cdk.out.${kind}`);
    // No esbuild and no Docker may be reached for: the function comes bundled.
    await run(process.execPath, [path.join(appDir, kind === 'esm' ? 'app.mjs' : 'app.cjs'), outdirs[kind]], {
      cwd: appDir,
      env: { PATH: process.env.PATH ?? '', CDK_DOCKER: 'docker-is-not-available' },
      timeout: 60_000,
    });
    templates[kind] = JSON.parse(readFileSync(path.join(outdirs[kind], 'Platform.template.json'), 'utf8')) as Template;
  }
}, 300_000);

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

const resourcesOf = (template: Template, type: string) =>
  Object.values(template.Resources).filter((resource) => resource.Type === type);

describe.skipIf(skipSlow)('the packed package', () => {
  it('carries the built construct, its declarations, the CLI and the bundled function, and no sources', () => {
    expect(tarballFiles).toEqual(
      expect.arrayContaining([
        'package/dist/lib/index.js',
        'package/dist/lib/index.d.ts',
        'package/dist/bin/ops.js',
        'package/dist/function-bundle/index.mjs',
        'package/dist/function-bundle/index.mjs.map',
      ]),
    );
    expect(tarballFiles.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
    expect(tarballFiles.filter((file) => file.startsWith('package/test/'))).toEqual([]);
  });

  it('points exports, types and bin at the build', () => {
    const manifest = JSON.parse(
      readFileSync(path.join(appDir, 'node_modules/galaxy-start-flow-consumer/package.json'), 'utf8'),
    ) as {
      readonly exports: Record<string, unknown>;
      readonly types: string;
      readonly bin: Record<string, string>;
      readonly peerDependencies: Record<string, string>;
    };
    expect(manifest.exports['.']).toEqual({ types: './dist/lib/index.d.ts', default: './dist/lib/index.js' });
    expect(manifest.types).toBe('./dist/lib/index.d.ts');
    expect(manifest.bin).toEqual({ 'galaxy-start-flow-ops': './dist/bin/ops.js' });
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual(['aws-cdk-lib', 'constructs']);
  });
});

describe.skipIf(skipSlow).each(['esm', 'cjs'] as const)('a CDK app (%s) that installs the tarball', (kind) => {
  it('deploys the bundle the package carries, as the function code', () => {
    const [fn] = resourcesOf(templates[kind], 'AWS::Lambda::Function');
    expect(fn?.Properties).toMatchObject({ Handler: 'index.handler', Runtime: 'nodejs24.x', Architectures: ['arm64'] });
    const assets = readdirSync(outdirs[kind]).filter((name) => name.startsWith('asset.'));
    expect(assets).toHaveLength(1);
    expect(readdirSync(path.join(outdirs[kind], assets[0] ?? '')).sort()).toEqual(['index.mjs', 'index.mjs.map']);
  });

  it("uses the team's table, key, secret, VPC and topic, and creates none in their place", () => {
    const template = templates[kind];
    expect(resourcesOf(template, 'AWS::DynamoDB::Table')).toHaveLength(1);
    for (const type of ['AWS::KMS::Key', 'AWS::SecretsManager::Secret', 'AWS::SNS::Topic', 'AWS::EC2::SecurityGroup']) {
      expect(resourcesOf(template, type), type).toEqual([]);
    }
    const [fn] = resourcesOf(template, 'AWS::Lambda::Function');
    expect(fn?.Properties.VpcConfig).toEqual({
      SubnetIds: ['subnet-0123456789abcdef0'],
      SecurityGroupIds: ['sg-0123456789abcdef0'],
    });
    expect(fn?.Properties.Environment).toMatchObject({ Variables: { GAMES_TABLE: 'lobby-prod-games', STAGE: 'prod' } });
    const policies = JSON.stringify(resourcesOf(template, 'AWS::IAM::Policy'));
    expect(policies).toContain(TABLE_KEY_ARN);
    expect(policies).toContain('table/lobby-prod-games');
    for (const alarm of resourcesOf(template, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties.AlarmActions).toEqual([TOPIC_ARN]);
    }
  });
});

describe.skipIf(skipSlow)('the installed package', () => {
  it('type-checks a TypeScript app against its declarations', async () => {
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    const args = ['--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--target', 'es2022', 'app.ts'];
    const result = await run(process.execPath, [tsc, ...args], { cwd: appDir, timeout: 60_000 }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
    expect(result.stdout).toBe('');
    expect(result.code).toBe(0);
  });

  it('runs the operator CLI from its bin', async () => {
    const { stdout } = await run(path.join(appDir, 'node_modules/.bin/galaxy-start-flow-ops'), ['--help'], {
      cwd: appDir,
      env: { PATH: process.env.PATH ?? '' },
      timeout: 30_000,
    });
    expect(stdout).toContain('--function <name>');
    expect(stdout).toContain('Usage: ops');
  });
});
