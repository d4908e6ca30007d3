/**
 * The npm scripts as processes: `--help`, the one-line answer to a bad flag, and a first
 * screen without the AWS SDK's Node-version warning (the child gets no variable switching it
 * off, so on Node 20 the script must do it itself).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { runScript } from '../support/run-script.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.cleanup();
});

const script = (file: string, args: readonly string[], env: Record<string, string> = {}) =>
  runScript(file, args, { POWERTOOLS_METRICS_DISABLED: 'true', ...env });

describe('the npm scripts', () => {
  it('print their options on --help and answer a bad flag or value with one line and exit 2', async () => {
    const [localHelp, soakHelp, badValue, unknownFlag, badEnv] = await Promise.all([
      script('scripts/local.ts', ['--help']),
      script('scripts/soak.ts', ['--help']),
      script('scripts/soak.ts', ['--kills', 'many']),
      script('scripts/local.ts', ['--wtach']),
      script('scripts/invoke.ts', [], { INVOKE_TIMEOUT_MS: 'soon' }),
    ]);
    expect(localHelp).toMatchObject({ code: 0, stderr: '' });
    expect(localHelp.stdout).toContain('--every <seconds>');
    expect(soakHelp.code).toBe(0);
    expect(soakHelp.stdout).toContain('--no-faults');

    expect(badValue.code).toBe(2);
    expect(badValue.stderr.split('\n')[0]).toMatch(/--kills.*'many' is invalid/);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr.split('\n')[0]).toBe("error: unknown option '--wtach'");
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain('INVOKE_TIMEOUT_MS');
  });

  it('npm run invoke runs one invocation with no SDK warning on its first screen', async () => {
    await h.addResult({ game_id: 'script-1', outcome: 'failure' });
    const run = await script('scripts/invoke.ts', ['--timeout', '20000'], h.env);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(run.stdout)).toMatchObject({ summary: { entriesRead: 1, stoppedBy: 'drained' } });
  });
});
