/**
 * `npm run docs:environment`: rewrites the README's configuration table from the function's
 * list of variables (functions/runtime-job-results/environment.ts). Run it after adding or
 * changing a variable; a test fails until the README matches.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { scriptProgram } from './support/cli-args.js';
import { withConfigurationTable } from './support/configuration-table.js';

scriptProgram('npm run docs:environment --', "Rewrite README.md's configuration table from environment.ts.").parse();

const readmePath = new URL('../README.md', import.meta.url);
const before = readFileSync(readmePath, 'utf8');
const after = withConfigurationTable(before);
writeFileSync(readmePath, after);
console.log(
  after === before ? 'README.md: configuration table already up to date' : 'README.md: configuration table rewritten',
);
