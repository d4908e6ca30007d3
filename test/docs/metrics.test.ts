/**
 * Every metric the function emits has its row in the contract's metrics table (§7.2), the one
 * place the docs describe them; the README and the other docs link there.
 */
import { describe, expect, it } from 'vitest';
import { MetricName } from '../../functions/runtime-job-results/telemetry/metric-names.js';
import { readRepoFile } from './support.js';

const names = Object.values(MetricName);

describe('metrics in the docs', () => {
  it.each(names)("contract.md's metrics table has a row for %s", (name) => {
    const rows = readRepoFile('docs/contract.md')
      .split('\n')
      .filter((line) => line.startsWith(`| \`${name}\` |`));
    expect(rows, `no row of docs/contract.md starts with \`${name}\``).toHaveLength(1);
  });
});
