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

/**
 * Runs the CLI as `npm run ops` would, with only the harness's configuration in its environment:
 * no AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED, so the empty stderr of `status` below
 * checks on Node 20 that the CLI keeps the SDK's Node-version warning out of its output itself.
 */
const ops = (args: readonly string[]) => runScript('bin/ops.ts', args, h.env, 20_000);

describe('bin/ops.ts as a process', () => {
  it('prints help with the exit codes, answers --json, and exits with the documented codes', async () => {
    const entry = await h.addResult({ game_id: 'cli-1', outcome: 'failure' });
    const [help, status, usage, notFound] = await Promise.all([
      ops(['--help']),
      ops(['status', '--json']),
      ops(['offset', 'set']),
      ops(['--json', 'game', 'show', 'cli-none']),
    ]);

    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: ops');
    expect(help.stdout).toMatch(/dead-letters/);
    expect(help.stdout).toContain('4  the offset lease is held');

    expect(status).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(status.stdout)).toMatchObject({
      offset: { lastEntryId: '0-0' },
      stream: { key: h.streams.results, length: 1, entriesBehind: 1, oldestBehindId: entry },
      lease: { held: false },
    });

    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("missing required argument 'id'");

    expect(notFound.code).toBe(5);
    expect(JSON.parse(notFound.stdout)).toMatchObject({ error: { code: 'not_found' } });
  });
});
