/**
 * The defaults docs/deployment.md states are the ones the repository's stack synthesizes: the
 * number of alarms, the function's timeout, memory and reserved concurrency in follow and drain
 * mode, the schedule. Its prices are dated once, with the date and the Lambda prices of
 * bench/lambda-prices.ts (the one place the cost arithmetic reads them), and the monthly costs
 * it quotes follow from those prices and the synthesized configuration.
 */
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { LAMBDA_PRICES } from '../../bench/lambda-prices.js';
import { readRepoFile, synthesizeStack } from './support.js';

/** What a synthesized stack says about the function and its schedule. */
const factsOf = (context: Record<string, unknown> = {}) => {
  const stack = synthesizeStack(context);
  const template = Template.fromStack(stack).toJSON() as {
    readonly Resources: Record<string, { readonly Type: string; readonly Properties: Record<string, unknown> }>;
  };
  const resources = Object.values(template.Resources);
  const fn = template.Resources[stack.getLogicalId(stack.consumer.function.node.defaultChild as CfnElement)];
  if (fn === undefined) throw new Error('the function is not in the template');
  const variables = (fn.Properties.Environment as { Variables: Record<string, string> }).Variables;
  const schedules = resources.filter((resource) => resource.Type === 'AWS::Scheduler::Schedule');
  return {
    alarms: resources.filter((resource) => resource.Type === 'AWS::CloudWatch::Alarm').length,
    timeoutSeconds: fn.Properties.Timeout as number,
    memoryMb: fn.Properties.MemorySize as number,
    reservedConcurrency: fn.Properties.ReservedConcurrentExecutions as number,
    marginSeconds: Number(variables.TIME_BUDGET_MARGIN_MS) / 1000,
    scheduleExpressions: schedules.map((schedule) => schedule.Properties.ScheduleExpression as string),
  };
};

const follow = factsOf();
const drain = factsOf({ followMode: false });

const deployment = readRepoFile('docs/deployment.md');
const lines = deployment.split('\n');

/** The one row of a Markdown table whose first cell is `first`. */
const row = (first: string): string => {
  const rows = lines.filter((line) => line.startsWith(`| ${first} |`));
  expect(rows, `deployment.md has one row starting with "| ${first} |"`).toHaveLength(1);
  return rows[0] as string;
};

/** The section of deployment.md under `heading` (a `###` heading), up to the next heading. */
const section = (heading: string): string => {
  const start = deployment.indexOf(`\n### ${heading}\n`);
  expect(start, `deployment.md has a "### ${heading}" section`).toBeGreaterThan(0);
  const end = deployment.slice(start + 1).search(/\n##+ /);
  return deployment.slice(start, end < 0 ? undefined : start + 1 + end);
};

/** 1024 → "1,024". */
const grouped = (value: number): string => value.toLocaleString('en-US');
/** 40.3288 → "$40.33". */
const dollars = (value: number): string => `$${value.toFixed(2)}`;

const NUMBER_WORDS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
];

describe("deployment.md's defaults are the synthesized stack's", () => {
  it('finds the facts in the template', () => {
    expect(follow.alarms).toBeGreaterThan(5);
    expect(follow.timeoutSeconds).toBeGreaterThan(drain.timeoutSeconds);
    expect(follow.scheduleExpressions).toHaveLength(1);
  });

  it('the number of alarms', () => {
    const cell = /^\| (\w+) alarms \|/m.exec(deployment)?.[1] ?? '';
    expect(cell.toLowerCase(), 'the "| N alarms |" row of "What the construct deploys"').toBe(
      NUMBER_WORDS[follow.alarms] ?? String(follow.alarms),
    );
  });

  it('the function: timeout, reserved concurrency and memory in both modes', () => {
    const fn = row('Lambda function');
    expect(fn).toContain(`${grouped(follow.memoryMb)} MB`);
    expect(fn).toContain(
      `Follow mode (default): timeout ${follow.timeoutSeconds} s (the period, the margin and 10 s of hand-over), reserved concurrency ${follow.reservedConcurrency}`,
    );
    expect(fn).toContain(
      `Drain mode: timeout ${drain.timeoutSeconds} s (10 s below the period), reserved concurrency ${drain.reservedConcurrency}`,
    );
    expect(drain.memoryMb).toBe(follow.memoryMb);
    expect(row('`memorySize`')).toMatch(new RegExp(`^\\| \`memorySize\` \\| ${grouped(follow.memoryMb)} \\|`));
    expect(row('`memorySizeMb`')).toMatch(new RegExp(`^\\| \`memorySizeMb\` \\| \`${follow.memoryMb}\` \\|`));
  });

  it('every timeout it quotes in seconds is one of the two defaults', () => {
    const quoted = ['docs/deployment.md', 'docs/runbook.md', 'README.md'].flatMap((path) =>
      [
        ...readRepoFile(path).matchAll(
          /timeout\s+\(?(\d+) s\b|\b(\d+) s in drain mode|\((\d+) s and \d in follow mode/g,
        ),
      ].map((match) => Number(match[1] ?? match[2] ?? match[3])),
    );
    expect(quoted.length).toBeGreaterThan(3);
    expect(quoted.filter((seconds) => seconds !== follow.timeoutSeconds && seconds !== drain.timeoutSeconds)).toEqual(
      [],
    );
  });

  it('the schedule', () => {
    const [expression] = follow.scheduleExpressions;
    expect(row('EventBridge Scheduler schedule')).toContain(`\`${expression}\` by default`);
  });

  it("the memory-size table's default row", () => {
    const bold = section('Memory size')
      .split('\n')
      .filter((line) => line.startsWith('| **'));
    expect(bold).toEqual([expect.stringMatching(new RegExp(`^\\| \\*\\*${grouped(follow.memoryMb)} MB\\*\\* \\|`))]);
  });
});

describe("deployment.md's prices", () => {
  it('are dated once, with the date of bench/lambda-prices.ts', () => {
    expect(deployment.match(/\b\d{4}-\d{2}-\d{2}\b/g)).toEqual([LAMBDA_PRICES.asOf]);
    expect(section('Prices')).toContain(`as published on ${LAMBDA_PRICES.asOf}`);
  });

  it("are bench/lambda-prices.ts's for Lambda", () => {
    const lambda = section('Prices')
      .split('\n')
      .find((line) => line.startsWith('| Lambda, arm64 |'));
    expect(lambda).toContain(`$${LAMBDA_PRICES.usdPerGbSecond.toFixed(10)} per GB-s`);
    expect(lambda).toContain(`$${LAMBDA_PRICES.usdPerMillionRequests.toFixed(2)} per million requests`);
  });

  it("give the follower's monthly cost at each size, billed the period and billed until the margin", () => {
    const minutesPerMonth = 30 * 24 * 60;
    const [, minutes] = /^rate\((\d+) minutes?\)$/.exec(follow.scheduleExpressions[0] ?? '') ?? [];
    const periodSeconds = Number(minutes) * 60;
    const invocations = minutesPerMonth / Number(minutes);
    const billedUntilMargin = follow.timeoutSeconds - follow.marginSeconds;
    const monthly = (memoryMb: number, billedSeconds: number): number =>
      (memoryMb / 1024) * billedSeconds * invocations * LAMBDA_PRICES.usdPerGbSecond +
      (invocations * LAMBDA_PRICES.usdPerMillionRequests) / 1_000_000;

    const table = section('Memory size')
      .split('\n')
      .filter((line) => /^\| (\*\*)?[\d,]+ MB/.test(line));
    expect(table.length).toBeGreaterThan(3);
    expect(section('Memory size')).toContain(
      `billed ${periodSeconds} s a minute | billed ${billedUntilMargin} s a minute |`,
    );
    for (const line of table) {
      const memoryMb = Number((/^\| (?:\*\*)?([\d,]+) MB/.exec(line)?.[1] ?? '').replace(/,/g, ''));
      const costs = [...line.matchAll(/\$(\d+\.\d\d)/g)].map((match) => `$${match[1]}`);
      expect(costs, `the ${memoryMb} MB row`).toEqual([
        dollars(monthly(memoryMb, periodSeconds)),
        dollars(monthly(memoryMb, billedUntilMargin)),
      ]);
    }
    expect(section('What it costs')).toContain(
      `**${dollars(monthly(follow.memoryMb, periodSeconds))} to ${dollars(monthly(follow.memoryMb, billedUntilMargin))}**`,
    );
  });
});
