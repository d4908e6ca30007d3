/** Every metric the function emits is documented in the contract and named in the README. */
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

  it.each(names)("the README's telemetry section names %s", (name) => {
    const readme = readRepoFile('README.md');
    const telemetry = readme.slice(readme.indexOf('## Telemetry'), readme.indexOf('## Source map'));
    expect(telemetry).toContain(`\`${name}\``);
  });
});
