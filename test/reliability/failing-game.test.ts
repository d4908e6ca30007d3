/**
 * Follow mode past a failing game, with the real handler against DynamoDB Local behind the
 * intercepting proxy: one game's writes fail with DynamoDB 500s for a few seconds while other
 * games' results keep arriving. The others are applied as they come; the failing game once
 * DynamoDB answers again, in the same invocation, its second result behind its first.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { forward, gameIdOf, internalError } from '../../local/dynamodb-proxy.js';
import { successFields } from './support/hooks.js';

let h: Harness;

afterEach(async () => {
  await h.cleanup();
});

/** Polls until the game has the status, and returns when it did (epoch ms). */
const statusReached = async (gameId: string, status: string, timeoutMs: number): Promise<number> => {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if ((await h.getGame(gameId))?.status === status) return Date.now();
    await sleep(20);
  }
  throw new Error(`${gameId} did not reach ${status} within ${timeoutMs} ms`);
};

describe('a following invocation past a failing game', () => {
  it("applies other games' results within 2 s each while one game's writes fail, and that game's after recovery", async () => {
    h = await createHarness({ POLL_INTERVAL_MS: '100', TIME_BUDGET_MARGIN_MS: '2500', RETRY_BACKOFF_MS: '100' });
    await h.putGame({ gameId: 'bad', status: 'starting' });
    // Three seconds from the first refused write: the entry's fourth try comes at least
    // 3.65 s after its first (backoffs of 50–100, 400–800 and 3,200–6,400 ms), after recovery.
    let failingUntil: number | undefined;
    h.proxy.setHook((call) => {
      if (call.tableName !== h.gamesTable || gameIdOf(call) !== 'bad') return forward;
      failingUntil ??= Date.now() + 3_000;
      return Date.now() < failingUntil ? internalError : forward;
    });
    const invocation = h.invoke({ timeoutMs: 20_000 });
    const badFirst = await h.addResult(successFields('bad'));
    await h.addResult({ game_id: 'bad', outcome: 'failure' });
    const delays: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const gameId = `ok-${i}`;
      await h.putGame({ gameId, status: 'starting' });
      const addedAt = Date.now();
      await h.addResult(successFields(gameId));
      delays.push((await statusReached(gameId, 'running', 5_000)) - addedAt);
      await sleep(300);
    }
    const recovered = await statusReached('bad', 'running', 12_000);
    expect(recovered).toBeGreaterThanOrEqual(failingUntil ?? Number.POSITIVE_INFINITY);
    const summary = await invocation;

    for (const delay of delays) expect(delay).toBeLessThan(2_000);
    expect(summary).toMatchObject({ stoppedBy: 'drained', applied: 7, ignored: 1, deadLettered: 0 });
    // In stream order: the success applied, the failure after it found the game running.
    expect(await h.getGame('bad')).toMatchObject({ status: 'running' });
    expect(h.gameMaster.callsFor('bad').map((call) => call.headers['idempotency-key'])).toEqual([badFirst]);
    expect(await h.offsetItem()).toMatchObject({ attempts: {} });
    expect((await h.offsetItem())?.finished).toBeUndefined();
  }, 60_000);
});
