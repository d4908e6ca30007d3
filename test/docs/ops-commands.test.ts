/**
 * Every `npm run ops -- …` command that the runbook and operations.md quote parses with the
 * real commander program of `bin/ops.ts`. `runCommand` is replaced, so nothing connects to a
 * stack: a command line parses when commander reaches its action.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readRepoFile } from './support.js';

const runCommand = vi.hoisted(() => vi.fn(async () => 0));
vi.mock('../../ops/run-command.js', () => ({ runCommand }));

const SAMPLE_ID = '1718000200000-0';

/**
 * The quoted command lines of `text`, as the words after `ops --`. Placeholders become sample
 * values (`<gameId>` a game id, any other `<…>` or `$VAR` an entry id, `N` a count) and
 * optional parts (`[--yes]`) are kept, so a synopsis is checked with all of its options.
 */
const quotedOpsCommands = (text: string): string[][] => {
  const commands: string[][] = [];
  for (const match of text.matchAll(/npm run (?:-s )?ops -- ([^`\n#|\\]*)/g)) {
    const words = (match[1] ?? '')
      .replace(/<gameId>/g, 'game-1')
      .replace(/<seconds>/g, '15')
      .replace(/<[^>]*>/g, SAMPLE_ID)
      .replace(/\$\([^)]*\)/g, '1718000000000')
      .replace(/"\$[A-Z_]+"/g, SAMPLE_ID)
      .replace(/[[\]]/g, '')
      .split(/\s+/)
      .filter((word) => word !== '')
      .map((word) => (word === 'N' ? '20' : word));
    // `npm run ops -- <command>` and `--json …` name no command of their own.
    if (words.length === 0 || words.includes('…') || words[0] === SAMPLE_ID) continue;
    commands.push(words);
  }
  return commands;
};

/** Runs `bin/ops.ts` in this process with `words` as its arguments; resolves to its exit code. */
const parse = async (words: readonly string[]): Promise<number> => {
  const argv = process.argv;
  const stdoutWrite = process.stdout.write;
  const stderrWrite = process.stderr.write;
  process.argv = ['node', 'bin/ops.ts', ...words];
  process.exitCode = undefined;
  // Commander's help and parse errors: kept out of the test output.
  process.stdout.write = () => true;
  process.stderr.write = () => true;
  try {
    vi.resetModules();
    await import('../../bin/ops.js');
    return Number(process.exitCode ?? 0);
  } finally {
    process.argv = argv;
    process.stdout.write = stdoutWrite;
    process.stderr.write = stderrWrite;
    process.exitCode = undefined;
  }
};

const documented = [
  ...new Set(
    ['docs/runbook.md', 'docs/operations.md'].flatMap((path) =>
      quotedOpsCommands(readRepoFile(path)).map((words) => words.join(' ')),
    ),
  ),
];

afterEach(() => {
  runCommand.mockClear();
});

describe('ops commands quoted in the docs', () => {
  it('finds the quoted commands', () => {
    expect(documented).toEqual(expect.arrayContaining(['status', 'offset show', 'dead-letters requeue --all']));
  });

  it('rejects a command line that does not parse (the check can fail)', async () => {
    expect(await parse(['offset', 'set'])).toBe(2);
    expect(await parse(['dead-letters', 'list', '--lmit', '5'])).toBe(2);
    expect(runCommand).not.toHaveBeenCalled();
  });

  it.each(documented)('npm run ops -- %s', async (line) => {
    const words = line.split(' ');
    expect(await parse(words)).toBe(0);
    if (words[0] !== 'help') expect(runCommand).toHaveBeenCalledOnce();
  });
});
