/**
 * The heap-limits wrapper the function starts through (lib/heap-limits.ts): the real script,
 * run as Lambda's bootstrap runs it, in front of this machine's `node`.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  HEAP_LIMITS_WRAPPER_SOURCE,
  heapLimitsEnvironment,
  lambdaBootstrapHeapArgs,
  SEMI_SPACE_VARIABLE,
  semiSpaceMb,
} from '../../lib/heap-limits.js';

/** Runs `<wrapper> node <args>` as the bootstrap does, with only `env` in the environment. */
const runWrapped = (args: readonly string[], env: Record<string, string> = {}) =>
  spawnSync(HEAP_LIMITS_WRAPPER_SOURCE, [process.execPath, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 20_000,
  });

/** A script that prints the flags and arguments the node it runs in was given. */
const PRINT_ARGS = 'console.log(JSON.stringify({ execArgv: process.execArgv, argv: process.argv.slice(1) }))';

/** The bootstrap's command line for 1,024 MB, as far as node's flags go. */
const BOOTSTRAP_1024 = ['--expose-gc', '--max-http-header-size', '81920', ...lambdaBootstrapHeapArgs(1_024)];

/**
 * Keeps a ring of 200,000 young objects alive while allocating, so that every scavenge has
 * survivors and V8 grows the new space as far as its limit lets it; prints the largest size seen.
 */
const GROW_NEW_SPACE = `
const v8 = require('node:v8');
const ring = new Array(200000);
let largest = 0;
for (let i = 0; i < 6000000; i++) {
  ring[i % ring.length] = { i, text: 'item ' + i };
  if (i % 10000 === 0) {
    const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    largest = Math.max(largest, space.space_size);
  }
}
console.log(largest / 1048576);
`;

describe('the semi-space the stack sets', () => {
  it("is Lambda's bootstrap limit, at most 25 MB", () => {
    expect(lambdaBootstrapHeapArgs(1_024)).toEqual(['--max-semi-space-size=51', '--max-old-space-size=922']);
    expect(lambdaBootstrapHeapArgs(256)).toEqual(['--max-semi-space-size=12', '--max-old-space-size=231']);
    expect([128, 256, 512, 768, 1_024, 1_769, 10_240].map(semiSpaceMb)).toEqual([6, 12, 25, 25, 25, 25, 25]);
  });

  it('starts the function through the wrapper in the bundle, with that value', () => {
    expect(heapLimitsEnvironment(1_024)).toEqual({
      AWS_LAMBDA_EXEC_WRAPPER: '/var/task/heap-limits-wrapper.sh',
      [SEMI_SPACE_VARIABLE]: '25',
    });
  });
});

describe('heap-limits-wrapper.sh', () => {
  it("replaces the bootstrap's semi-space limit and keeps every other argument, in order", () => {
    const run = runWrapped([...BOOTSTRAP_1024, '-e', PRINT_ARGS, 'an argument', 'x'], { [SEMI_SPACE_VARIABLE]: '25' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      execArgv: [
        '--expose-gc',
        '--max-http-header-size',
        '81920',
        '--max-semi-space-size=25',
        '--max-old-space-size=922',
        '-e',
        PRINT_ARGS,
      ],
      argv: ['an argument', 'x'],
    });
  });

  it('makes V8 keep the new space within the new limit', () => {
    const bootstrapOnly = runWrapped([...BOOTSTRAP_1024, '-e', GROW_NEW_SPACE]);
    const wrapped = runWrapped([...BOOTSTRAP_1024, '-e', GROW_NEW_SPACE], { [SEMI_SPACE_VARIABLE]: '25' });
    expect(bootstrapOnly.status, bootstrapOnly.stderr).toBe(0);
    expect(wrapped.status, wrapped.stderr).toBe(0);
    // Two semi-spaces, each rounded up by V8 to a power of two: 2 × 32 MB at most with 25.
    expect(Number(wrapped.stdout)).toBeLessThanOrEqual(64);
    expect(Number(bootstrapOnly.stdout)).toBeGreaterThan(64);
  }, 30_000);

  it("leaves the bootstrap's command line as it is without the variable", () => {
    const run = runWrapped([...BOOTSTRAP_1024, '-e', PRINT_ARGS]);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout).execArgv).toContain('--max-semi-space-size=51');
  });

  it.each(['twenty', '0', '025', '-5', '25MB'])('names a value of %j it cannot use, and changes nothing', (value) => {
    const run = runWrapped([...BOOTSTRAP_1024, '-e', PRINT_ARGS], { [SEMI_SPACE_VARIABLE]: value });
    expect(run.stderr).toContain(`${SEMI_SPACE_VARIABLE}='${value}' is not a whole number of MB above 0`);
    expect(JSON.parse(run.stdout).execArgv).toContain('--max-semi-space-size=51');
  });

  it('adds nothing to a command line without the flag', () => {
    const run = runWrapped(['--expose-gc', '-e', PRINT_ARGS], { [SEMI_SPACE_VARIABLE]: '25' });
    expect(JSON.parse(run.stdout).execArgv).toEqual(['--expose-gc', '-e', PRINT_ARGS]);
  });

  it("runs node in its own process, so the exit status and the pid are the runtime's", () => {
    const run = runWrapped([...BOOTSTRAP_1024, '-e', 'console.log(process.pid); process.exit(7)'], {
      [SEMI_SPACE_VARIABLE]: '25',
    });
    expect(run.status).toBe(7);
    expect(Number(run.stdout)).toBe(run.pid);
  });
});
