/**
 * Every alarm the construct deploys has a section in the runbook (a heading that names it)
 * and a row in deployment.md's alarm table, so an alarm added to the construct cannot ship
 * without saying what to do when it fires.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { headingsOf, readRepoFile, synthesizeStack } from './support.js';

/** The construct ids of the repository stack's alarms (`LagAge`, `DeadLetters`, …): the construct's, all of them. */
const alarmIds = (): string[] =>
  synthesizeStack()
    .node.findAll()
    .filter((construct) => construct instanceof cloudwatch.Alarm)
    .map((alarm) => alarm.node.id)
    .sort();

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
