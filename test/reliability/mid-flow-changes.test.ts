/**
 * A game that changes under the start flow: deleted after the binding, or moved on before an
 * orphan path's status write, and what each leaves in the metrics.
 */
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { forward, gameIdOf, refusedForGood } from '../../local/dynamodb-proxy.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { isBindingWrite, isStatusWrite, successFields } from './support/hooks.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.cleanup();
});
beforeEach(() => {
  h.proxy.setHook(undefined);
});

const invoke = async () => {
  const snapshots: Record<string, number>[] = [];
  const result = await h.invoke({ handler: { onMetrics: (snapshot) => snapshots.push(snapshot) } });
  return { result, metrics: snapshots[0] ?? {} };
};

const TO_START_FAILED = 'lobby.game.transitions|from_status=starting,to_status=start_failed,trigger=';
const transitionsToStartFailed = (metrics: Record<string, number>): number =>
  Object.entries(metrics)
    .filter(([key]) => key.startsWith(TO_START_FAILED))
    .reduce((sum, [, value]) => sum + value, 0);

describe('a game deleted after the binding', () => {
  it('dead-letters the entry as game_not_found when the game vanishes before its running write', async () => {
    await h.putGame({ gameId: 'vanishing', status: 'starting' });
    const entryId = await h.addResult(successFields('vanishing'));
    h.proxy.setHook((call) =>
      isStatusWrite(call, 'vanishing', 'running')
        ? {
            kind: 'forward',
            before: async () => {
              await h.documents.send(new DeleteCommand({ TableName: h.gamesTable, Key: { gameId: 'vanishing' } }));
            },
          }
        : forward,
    );
    const { result } = await invoke();
    expect(result).toMatchObject({ stoppedBy: 'drained', deadLettered: 1, lastEntryId: entryId });
    const dead = (await h.read(h.streams.deadLetters)).filter((m) => m.fields.dead_letter_source_id === entryId);
    expect(dead.map((m) => m.fields.dead_letter_reason)).toEqual(['game_not_found']);
    expect(await h.getGame('vanishing')).toBeUndefined();
  });
});

describe("the orphan path's metrics", () => {
  it('counts the start_failed outcome but no transition when the game had already moved on', async () => {
    // An earlier release's start claim, left by a flow interrupted after Lobby cancelled the game.
    await h.putGame({ gameId: 'orphan-moved', status: 'starting' });
    const entryId = await h.addResult(successFields('orphan-moved'));
    await h.putGame({
      gameId: 'orphan-moved',
      status: 'cancelled',
      startFlowClaim: { sourceEntryId: entryId, claimedAt: '2026-11-30T12:00:00.000Z' },
    });
    const { result, metrics } = await invoke();
    expect(result).toMatchObject({ stoppedBy: 'drained', applied: 1 });
    expect(await h.getGame('orphan-moved')).toMatchObject({ status: 'cancelled' });
    expect(metrics['lobby.start_flow.outcomes|outcome=start_failed']).toBe(1);
    expect(transitionsToStartFailed(metrics)).toBe(0);
  });

  it('counts the transition too when the orphan path itself moved the game to start_failed', async () => {
    await h.putGame({ gameId: 'orphan-still', status: 'starting' });
    await h.addResult(successFields('orphan-still'));
    // DynamoDB refuses the binding for good while the game is still `starting`: the orphan
    // path's own write does the transition.
    h.proxy.setHook((call) => (isBindingWrite(call) && gameIdOf(call) === 'orphan-still' ? refusedForGood : forward));
    const { result, metrics } = await invoke();
    expect(result).toMatchObject({ stoppedBy: 'drained', applied: 1 });
    expect(await h.getGame('orphan-still')).toMatchObject({ status: 'start_failed' });
    expect((await h.read(h.streams.stopJobs)).map((m) => m.fields.game_id)).toContain('orphan-still');
    expect(metrics['lobby.start_flow.outcomes|outcome=start_failed']).toBe(1);
    expect(transitionsToStartFailed(metrics)).toBe(1);
  });
});
