/** Reading the repository's Markdown, and synthesizing its stack, for the docs checks. */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { addStartFlowStack } from '../../lib/app.js';
import type { StartFlowStack } from '../../lib/start-flow-stack.js';

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

/**
 * The repository's stack of the `dev` stage as `npx cdk synth` builds it (cdk.json's context,
 * real-looking URLs instead of the demo's placeholders, `context` on top), with an inline stub
 * for the function's code: no esbuild, no Java, no redis-server.
 */
export const synthesizeStack = (context: Record<string, unknown> = {}): StartFlowStack => {
  const cdkJson = JSON.parse(readRepoFile('cdk.json')) as { readonly context: Record<string, unknown> };
  const app = new App({
    context: {
      ...cdkJson.context,
      upstashRedisRestUrl: 'https://eu1-example.upstash.io',
      gameMasterBaseUrl: 'https://gm.example.com',
      ...context,
    },
  });
  return addStartFlowStack(app, {
    functionCode: lambda.Code.fromInline('export const handler = async () => ({});'),
    env: {},
  }).stack;
};
