/**
 * Every alarm the construct deploys has a section in the runbook (a heading that names it)
 * and a row in deployment.md's alarm table, so an alarm added to the construct cannot ship
 * without saying what to do when it fires.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { addStartFlowStack } from '../../lib/app.js';
import { headingsOf, readRepoFile } from './support.js';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  readonly context: Record<string, unknown>;
};

/** The construct ids of the repository stack's alarms (`LagAge`, `DeadLetters`, …): the construct's, all of them. */
const alarmIds = (): string[] => {
  const app = new App({
    context: {
      ...cdkJson.context,
      upstashRedisRestUrl: 'https://eu1-example.upstash.io',
      gameMasterBaseUrl: 'https://gm.example.com',
    },
  });
  const { stack } = addStartFlowStack(app, {
    functionCode: lambda.Code.fromInline('export const handler = async () => ({});'),
    env: {},
  });
  return stack.node
    .findAll()
    .filter((construct) => construct instanceof cloudwatch.Alarm)
    .map((alarm) => alarm.node.id)
    .sort();
};

const ids = alarmIds();

describe('alarms in the docs', () => {
  it('finds the alarms of the stack', () => {
    expect(ids).toEqual(
      expect.arrayContaining([
        'DeadLetters',
        'FunctionErrors',
        'GameMasterOutage',
        'LagAge',
        'OffsetAheadOfStream',
        'Throttles',
      ]),
    );
  });

  it.each(ids)('the runbook has a section for %s', (id) => {
    const sections = headingsOf(readRepoFile('docs/runbook.md')).filter((heading) => heading.includes(`\`${id}\``));
    expect(sections, `no heading of docs/runbook.md names \`${id}\``).not.toEqual([]);
  });

  it.each(ids)("deployment.md's alarm table has a row for %s", (id) => {
    const rows = readRepoFile('docs/deployment.md')
      .split('\n')
      .filter((line) => line.startsWith(`| \`${id}\` |`));
    expect(rows, `no row of docs/deployment.md starts with \`${id}\``).toHaveLength(1);
  });
});
