/**
 * `npm run docs:environment`: rewrites the configuration table in the README and in
 * docs/contract.md (§8) from the function's list of variables
 * (functions/runtime-job-results/environment.ts). Run it after adding or changing a variable;
 * a test fails until both match.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { scriptProgram } from './support/cli-args.js';
import { DOCUMENTS_WITH_THE_TABLE, withConfigurationTable } from './support/configuration-table.js';

scriptProgram(
  'npm run docs:environment --',
  'Rewrite the configuration table of README.md and docs/contract.md from environment.ts.',
).parse();

for (const file of DOCUMENTS_WITH_THE_TABLE) {
  const path = new URL(`../${file}`, import.meta.url);
  const before = readFileSync(path, 'utf8');
  const after = withConfigurationTable(before);
  writeFileSync(path, after);
  console.log(`${file}: configuration table ${after === before ? 'already up to date' : 'rewritten'}`);
}
