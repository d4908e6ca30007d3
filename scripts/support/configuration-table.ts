/**
 * The configuration table of the README and of docs/contract.md, written from the function's
 * list of variables so they cannot disagree: `npm run docs:environment` puts it into both and a
 * test fails when either holds another.
 */
import { VARIABLES } from '../../functions/runtime-job-results/environment.js';
import type { Variable } from '../../functions/runtime-job-results/environment.js';

/** The documents that show the table, from the repository root. */
export const DOCUMENTS_WITH_THE_TABLE = ['README.md', 'docs/contract.md'] as const;

/** The lines around the table in those documents; what lies between them is generated. */
const TABLE_START = '<!-- configuration table: generated from environment.ts by `npm run docs:environment` -->';
const TABLE_END = '<!-- end of configuration table -->';

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

/** `document` with the text between the markers replaced by the current table. */
export const withConfigurationTable = (document: string): string => {
  const start = document.indexOf(TABLE_START);
  const end = document.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`the document lacks the lines ${TABLE_START} … ${TABLE_END}`);
  return `${document.slice(0, start + TABLE_START.length)}\n${configurationTable()}\n${document.slice(end)}`;
};
