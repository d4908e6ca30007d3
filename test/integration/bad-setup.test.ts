import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.cleanup();
});

describe('bad configuration gets a clear answer and moves nothing', () => {
  it('a wrong Upstash token fails the invocation with WRONGPASS and leaves the offset alone', async () => {
    await h.putGame({ gameId: 'tok', status: 'starting' });
    await h.addResult({ game_id: 'tok', outcome: 'failure' });
    await expect(h.invoke({ env: { UPSTASH_REDIS_REST_TOKEN: 'not-the-token' } })).rejects.toThrow(
      /reading the results stream failed: .*WRONGPASS/,
    );
    const offset = await h.offsetItem();
    expect(offset).not.toHaveProperty('lastEntryId');
    expect(offset).not.toHaveProperty('leaseOwner');
    expect(await h.getGame('tok')).toMatchObject({ status: 'starting' });
  });

  it('a missing games table names the table and counts no attempt', async () => {
    await expect(h.invoke({ env: { GAMES_TABLE: 'no-such-games-table' } })).rejects.toThrow(
      'DynamoDB table "no-such-games-table" does not exist',
    );
    const offset = await h.offsetItem();
    expect(offset).not.toHaveProperty('lastEntryId');
    expect(offset).not.toHaveProperty('attempts');
  });

  it('a missing offsets table names the table', async () => {
    await expect(h.invoke({ env: { OFFSETS_TABLE: 'no-such-offsets-table' } })).rejects.toThrow(
      'DynamoDB table "no-such-offsets-table" does not exist',
    );
  });

  it('a missing variable names the variable', async () => {
    await expect(h.invoke({ env: { GM_BASE_URL: '' } })).rejects.toThrow('GM_BASE_URL is required but not set');
  });

  it('the same stack with the right settings then applies the entry', async () => {
    expect(await h.invoke()).toMatchObject({ applied: 1, stoppedBy: 'drained' });
    expect((await h.offsetItem())?.lastInvocation).toMatchObject({
      applied: 1,
      stoppedBy: 'drained',
      at: expect.any(String),
    });
  });

  it('an offset past the end of a recreated stream is reported, not moved', async () => {
    const metrics: Record<string, number>[] = [];
    await h.redis.exec(['DEL', h.streams.results]);
    await h.addResult({ game_id: 'tok', outcome: 'failure' }, '5-0');
    const before = (await h.offsetItem())?.lastEntryId;
    const summary = await h.invoke({ handler: { onMetrics: (snapshot) => metrics.push(snapshot) } });
    expect(summary).toMatchObject({ entriesRead: 0, stoppedBy: 'drained', lastEntryId: before });
    expect(metrics[0]).toMatchObject({ 'lobby.start_flow.offset_ahead_of_stream|': 1 });
    expect((await h.offsetItem())?.lastEntryId).toBe(before);
  });
});
