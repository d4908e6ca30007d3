import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness({ BATCH_SIZE: '2' });
});
afterAll(async () => {
  await h.cleanup();
});

describe('stream order and the offset', () => {
  it('applies ids 999-0, 1000-0, 1000-9, 1000-10 in numeric order and stores the last', async () => {
    await h.putGame({ gameId: 'ordered', status: 'starting' });
    await h.putGame({ gameId: 'other', status: 'starting' });
    // A string comparison would put 1000-* before 999-0 and fail the game first.
    await h.addResult(
      { game_id: 'ordered', outcome: 'success', container_id: 'c', engine_endpoint: 'http://e/' },
      '999-0',
    );
    await h.addResult({ game_id: 'ordered', outcome: 'failure' }, '1000-0');
    await h.addResult({ game_id: 'other', outcome: 'failure' }, '1000-9');
    await h.addResult({ game_id: 'ordered', outcome: 'failure' }, '1000-10');

    const first = await h.invoke();
    expect(first).toEqual({
      entriesRead: 4,
      applied: 2,
      ignored: 2,
      invalid: 0,
      deadLettered: 0,
      lastEntryId: '1000-10',
      stoppedBy: 'drained',
    });
    expect(await h.getGame('ordered')).toMatchObject({ status: 'running' });
    expect(await h.getGame('other')).toMatchObject({ status: 'start_failed' });
    expect((await h.offsetItem())?.lastEntryId).toBe('1000-10');

    const second = await h.invoke();
    expect(second).toMatchObject({ entriesRead: 0, lastEntryId: '1000-10', stoppedBy: 'drained' });
  });

  it('starts after the stored offset, never before it', async () => {
    await h.putGame({ gameId: 'late', status: 'starting' });
    await h.addResult({ game_id: 'late', outcome: 'failure' }, '1000-11');
    expect(await h.invoke()).toMatchObject({ entriesRead: 1, applied: 1, lastEntryId: '1000-11' });
  });

  it('reads up to the largest possible id and past it finds nothing, without an error', async () => {
    await h.putGame({ gameId: 'edge-a', status: 'starting' });
    await h.putGame({ gameId: 'edge-b', status: 'starting' });
    await h.addResult({ game_id: 'edge-a', outcome: 'failure' }, '1000-12');
    const last = await h.addResult(
      { game_id: 'edge-b', outcome: 'failure' },
      '18446744073709551615-18446744073709551615',
    );
    expect(await h.invoke()).toMatchObject({ entriesRead: 2, applied: 2, lastEntryId: last, stoppedBy: 'drained' });
    expect(await h.getGame('edge-a')).toMatchObject({ status: 'start_failed' });
    expect(await h.getGame('edge-b')).toMatchObject({ status: 'start_failed' });
    expect(await h.invoke()).toMatchObject({ entriesRead: 0, lastEntryId: last, stoppedBy: 'drained' });
    expect(
      await h.invoke({ env: { POLL_INTERVAL_MS: '50', TIME_BUDGET_MARGIN_MS: '500' }, timeoutMs: 1_500 }),
    ).toMatchObject({ entriesRead: 0, lastEntryId: last, stoppedBy: 'drained' });
  });
});
