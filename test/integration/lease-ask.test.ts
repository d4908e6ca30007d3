import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaseAskKey } from '../../functions/runtime-job-results/adapters/upstash-result-stream.js';
import { buildDependencies } from '../../functions/runtime-job-results/dependencies.js';
import type { Dependencies } from '../../functions/runtime-job-results/dependencies.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';

/*
 * The lease ask over the official client and the Upstash-compatible server: left beside the
 * results stream, brought back by the holder's reads in the same request, gone when it lapses.
 */
let h: Harness;
let dependencies: Dependencies;

beforeAll(async () => {
  h = await createHarness();
  dependencies = await buildDependencies(h.env);
});
afterAll(async () => {
  await h.cleanup();
});

describe('the lease ask beside the results stream', () => {
  it('comes back with every read until it lapses, with or without entries, the last ask standing', async () => {
    const { stream } = dependencies;
    expect(await stream.readAfter('0-0', 10)).toEqual({ entries: [], cutShort: false });

    await stream.askForLease({ by: 'first', startedAtMs: 1_000 }, 60_000);
    await stream.askForLease({ by: 'second asker', startedAtMs: 2_000 }, 400);
    expect((await stream.readAfter('0-0', 10)).ask).toEqual({ by: 'second asker', startedAtMs: 2_000 });
    const id = await h.addResult({ game_id: 'g1', outcome: 'failure' });
    const page = await stream.readAfter('0-0', 10);
    expect(page.entries.map((entry) => entry.id)).toEqual([id]);
    expect(page.ask).toEqual({ by: 'second asker', startedAtMs: 2_000 });
    // Past the largest id the script returns early, still with the ask.
    expect((await stream.readAfter('18446744073709551615-18446744073709551615', 10)).ask?.by).toBe('second asker');

    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await h.redis.exists(leaseAskKey(h.streams.results))).toBe(0);
    expect((await stream.readAfter('0-0', 10)).ask).toBeUndefined();
  });

  it('a value it did not write is no ask', async () => {
    await h.redis.set(leaseAskKey(h.streams.results), 'not an ask', { px: 60_000 });
    expect((await dependencies.stream.readAfter('0-0', 10)).ask).toBeUndefined();
  });
});
