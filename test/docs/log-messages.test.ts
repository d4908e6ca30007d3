/**
 * The log messages the docs quote are ones the function writes: contract.md's table lists
 * exactly the messages in the code, and every message the runbook, deployment.md or the
 * README quotes is in that table.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FUNCTION_DIR, readRepoFile } from './support.js';

const sources = readdirSync(new URL(`../../${FUNCTION_DIR}`, import.meta.url), { recursive: true, encoding: 'utf8' })
  .filter((path) => path.endsWith('.ts'))
  .map((path) => readRepoFile(`${FUNCTION_DIR}${path}`));

/** Every string literal of the function's code. */
const literals = new Set(sources.flatMap((text) => [...text.matchAll(/'([^'\n]+)'/g)].map((match) => match[1])));

/** Messages passed as literals straight to a log call: `log.warn('…', …)`. */
const loggedLiterals = sources.flatMap((text) =>
  [...text.matchAll(/\.(?:debug|info|warn|error)\(\s*'([^'\n]+)'/g)].map((match) => match[1] as string),
);

/** The messages in contract.md §7.1's table (its first cells may hold several). */
const documented = (): Set<string> => {
  const contract = readRepoFile('docs/contract.md');
  const table = contract.slice(contract.indexOf('### 7.1 Logs'), contract.indexOf('### 7.2 Metrics'));
  return new Set(
    table
      .split('\n')
      .filter((line) => /^\| (debug|info|warn|error) \|/.test(line))
      .flatMap((line) => [...(line.split('|')[2] ?? '').matchAll(/`([^`]+)`/g)].map((match) => match[1] as string)),
  );
};

/** Backticked spans (outside code blocks) of three or more lowercase words that are not commands: quoted log messages. */
const quotedMessages = (text: string): string[] =>
  [...text.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`]+)`/g)]
    .map((match) => (match[1] as string).replace(/\s+/g, ' '))
    .filter((span) => /^[a-z][a-z _;,?'.-]*$/.test(span) && span.split(' ').length >= 3)
    .filter((span) => !/^(npm|npx|aws) /.test(span));

const messages = documented();

describe('log messages in the docs', () => {
  it("contract.md's table lists messages", () => {
    expect(messages.size).toBeGreaterThan(20);
  });

  it.each([...messages])('"%s" is a message of the code', (message) => {
    expect(literals.has(message), `no string literal '${message}' in ${FUNCTION_DIR}`).toBe(true);
  });

  it('every message logged as a literal is in the table', () => {
    expect(loggedLiterals.filter((message) => !messages.has(message))).toEqual([]);
  });

  it.each(['docs/runbook.md', 'docs/deployment.md', 'docs/architecture.md', 'README.md'])(
    'every message %s quotes is in the table',
    (path) => {
      expect(quotedMessages(readRepoFile(path)).filter((message) => !messages.has(message))).toEqual([]);
    },
  );
});
