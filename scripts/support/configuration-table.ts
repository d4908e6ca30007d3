/**
 * The README's configuration table, written from the function's list of variables so the
 * two cannot disagree: `npm run docs:environment` puts it into the README and a test fails
 * when the README holds another.
 */
import { VARIABLES } from '../../functions/runtime-job-results/environment.js';
import type { Variable } from '../../functions/runtime-job-results/environment.js';

/** The lines around the table in the README; what lies between them is generated. */
export const TABLE_START = '<!-- configuration table: generated from environment.ts by `npm run docs:environment` -->';
export const TABLE_END = '<!-- end of configuration table -->';

const code = (value: string | number): string => `\`${value}\``;

const defaultOf = (variable: Variable): string => {
  if (variable.default !== undefined) return code(variable.default);
  if (variable.kind === 'text' && variable.required !== undefined) {
    return variable.required === true ? 'required' : variable.required;
  }
  return '—';
};

const acceptedOf = (variable: Variable): string => {
  if (variable.kind === 'integer') return `${variable.min} – ${variable.max}`;
  if (variable.kind === 'choice') return variable.choices.map(code).join(', ');
  return '';
};

/** The Markdown table, one row per variable in the order of `VARIABLES`. */
export const configurationTable = (): string =>
  [
    '| variable | default | accepted | meaning |',
    '|---|---|---|---|',
    ...Object.entries(VARIABLES).map(
      ([name, variable]: [string, Variable]) =>
        `| ${code(name)} | ${defaultOf(variable)} | ${acceptedOf(variable)} | ${variable.doc} |`,
    ),
  ].join('\n');

/** `readme` with the text between the markers replaced by the current table. */
export const withConfigurationTable = (readme: string): string => {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md lacks the lines ${TABLE_START} … ${TABLE_END}`);
  return `${readme.slice(0, start + TABLE_START.length)}\n${configurationTable()}\n${readme.slice(end)}`;
};
