/**
 * The failure paths that must not end with a game `starting` and its container running with
 * nobody to stop it, nor apply a finished result twice, each against the real stack and
 * each with a crash variant: the handler process is SIGKILLed between two of its writes, and
 * the replay ends in the same state.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { forward, throttled } from '../../local/dynamodb-proxy.js';
import type { DynamoDbCall, ProxyHook } from '../../local/dynamodb-proxy.js';
import { setGameStatus } from '../../local/lobby-race.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { skipSlow } from '../support/slow.js';
import { leaseExpiry, spawnInvocation } from '../../local/child-invocation.js';
import { isBindingWrite, isStatusWrite, successFields } from './support/hooks.js';

let h: Harness;

afterEach(async () => {
  await h.cleanup();
});

/** DynamoDB's item limit; the padding leaves room for a status write, not a binding. */
const ITEM_LIMIT_BYTES = 400 * 1024;
const HEADROOM_BYTES = 1_000;

/** A `starting` game item within {@link HEADROOM_BYTES} of DynamoDB's 400 KB item limit. */
const putNearlyFullGame = async (gameId: string): Promise<void> => {
  const game: Record<string, string> = {
    gameId,
    status: 'starting',
    gameName: `Game ${gameId}`,
    targetEngineVersion: '1.4.2',
    turnSchedule: '0 */6 * * *',
  };
  const used = Object.entries(game).reduce((sum, [name, value]) => sum + name.length + value.length, 0);
  const padding = 'lobbyHistory';
  await h.putGame({
    ...game,
    gameId,
    status: 'starting',
    [padding]: 'x'.repeat(ITEM_LIMIT_BYTES - HEADROOM_BYTES - used - padding.length),
  });
};

/** A success whose binding (about 2.3 KB) cannot fit in a nearly full item. */
const bulkySuccess = (gameId: string): Record<string, string> => ({
  game_id: gameId,
  outcome: 'success',
  container_id: 'c'.repeat(256),
  engine_endpoint: `http://engine.galaxy.internal/${'p'.repeat(2_000)}`,
});

/**
 * One invocation in a child process, SIGKILLed at the first request that `matches` (which
 * never reaches DynamoDB; every other request goes through `base`); returns once its lease
 * has expired.
 */
const crashAt = async (matches: (call: DynamoDbCall) => boolean, base: ProxyHook = () => forward): Promise<void> => {
  const child = spawnInvocation({ ...h.env, TIME_BUDGET_MARGIN_MS: '0' }, 8_000);
  h.proxy.setHook((call) => {
    if (!matches(call)) return base(call);
    child.process.kill('SIGKILL');
    return { kind: 'drop' };
  });
  const ended = await child.ended;
  h.proxy.setHook(undefined);
  expect(ended.signal).toBe('SIGKILL');
  await sleep(leaseExpiry(await h.offsetItem()));
};

const isOffsetCommit = (call: DynamoDbCall): boolean =>
  call.operation === 'UpdateItem' &&
  call.tableName === h.offsetsTable &&
  String(call.body.UpdateExpression).startsWith('SET lastEntryId');

const stopJobSources = async (): Promise<string[]> =>
  (await h.read(h.streams.stopJobs)).map((m) => m.fields.source_entry_id ?? '');

const deadLetterReasons = async (): Promise<Map<string, Set<string>>> => {
  const reasons = new Map<string, Set<string>>();
  for (const { fields } of await h.read(h.streams.deadLetters)) {
    const source = fields.dead_letter_source_id ?? '';
    reasons.set(source, new Set([...(reasons.get(source) ?? []), fields.dead_letter_reason ?? '']));
  }
  return reasons;
};

describe('a binding that can never be saved takes the orphan path', () => {
  it('stops the container and fails the start at once when the item would pass 400 KB', async () => {
    h = await createHarness();
    await putNearlyFullGame('full');
    const entryId = await h.addResult(bulkySuccess('full'));

    expect(await h.invoke()).toMatchObject({ applied: 1, deadLettered: 0, stoppedBy: 'drained', lastEntryId: entryId });
    expect(await h.getGame('full')).toMatchObject({ status: 'start_failed' });
    expect(await h.getGame('full')).not.toHaveProperty('runtimeBinding');
    expect(await stopJobSources()).toEqual([entryId]);
    expect(h.gameMaster.callsFor('full')).toEqual([]);
  }, 30_000);

  it.skipIf(skipSlow)(
    'crash variant: killed between the stop job and start_failed, the replay ends the same way',
    async () => {
      h = await createHarness();
      await putNearlyFullGame('full');
      const entryId = await h.addResult(bulkySuccess('full'));
      await crashAt((call) => isStatusWrite(call, 'full', 'start_failed'));
      expect(await h.getGame('full')).toMatchObject({ status: 'starting' });
      expect(await stopJobSources()).toEqual([entryId]);

      expect(await h.invoke()).toMatchObject({ applied: 1, stoppedBy: 'drained', lastEntryId: entryId });
      expect(await h.getGame('full')).toMatchObject({ status: 'start_failed' });
      expect(new Set(await stopJobSources())).toEqual(new Set([entryId]));
    },
    60_000,
  );
});

describe('a bound success that runs out of tries takes the orphan path', () => {
  // The running write is throttled on every try: after MAX_ATTEMPTS the entry is given up,
  // and giving it up stops its container and fails the start, with the dead letter.
  const runningThrottled: ProxyHook = (call) => (isStatusWrite(call, 'stuck', 'running') ? throttled : forward);
  const env = { MAX_ATTEMPTS: '2', ATTEMPTS_PER_INVOCATION: '1' };

  it('gives up with a stop job, start_failed and a retries_exhausted dead letter', async () => {
    h = await createHarness(env);
    await h.putGame({ gameId: 'stuck', status: 'starting' });
    const entryId = await h.addResult(successFields('stuck'));
    h.proxy.setHook(runningThrottled);

    expect(await h.invoke()).toMatchObject({ stoppedBy: 'transient_error', lastEntryId: '0-0' });
    expect(await h.invoke()).toMatchObject({ deadLettered: 1, stoppedBy: 'drained', lastEntryId: entryId });
    expect(await h.getGame('stuck')).toMatchObject({ status: 'start_failed' });
    expect(await h.getGame('stuck')).not.toHaveProperty('startFlowClaim');
    expect(await stopJobSources()).toEqual([entryId]);
    expect([...((await deadLetterReasons()).get(entryId) ?? [])]).toEqual([
      expect.stringMatching(/^retries_exhausted: .*Throttling/),
    ]);
  }, 60_000);

  it.skipIf(skipSlow)(
    'crash variant: killed between the stop job and start_failed, the replay ends the same way',
    async () => {
      h = await createHarness(env);
      await h.putGame({ gameId: 'stuck', status: 'starting' });
      const entryId = await h.addResult(successFields('stuck'));
      h.proxy.setHook(runningThrottled);
      expect(await h.invoke()).toMatchObject({ stoppedBy: 'transient_error' });

      await crashAt((call) => isStatusWrite(call, 'stuck', 'start_failed'), runningThrottled);
      h.proxy.setHook(runningThrottled);
      expect(await h.invoke()).toMatchObject({ deadLettered: 1, stoppedBy: 'drained', lastEntryId: entryId });
      expect(await h.getGame('stuck')).toMatchObject({ status: 'start_failed' });
      expect(new Set(await stopJobSources())).toEqual(new Set([entryId]));
      expect((await deadLetterReasons()).get(entryId)?.size).toBe(1);
    },
    60_000,
  );
});

describe('finished entries are not applied again', () => {
  // Entry 1 (game a) fails on this invocation; entries 2 (a failure for b) and 3 (invalid)
  // after it are done. Lobby then puts b back into `starting` for a new attempt: the old
  // failure must not fail it, and the invalid entry must not be dead-lettered twice.
  const seed = async () => {
    await h.putGame({ gameId: 'a', status: 'starting' });
    await h.putGame({ gameId: 'b', status: 'starting' });
    const first = await h.addResult(successFields('a'));
    const second = await h.addResult({ game_id: 'b', outcome: 'failure' });
    const invalid = await h.addResult({ game_id: 'bad id', outcome: 'failure' });
    return { first, second, invalid };
  };
  const bindingOfAThrottled: ProxyHook = (call) => (isBindingWrite(call, 'a') ? throttled : forward);
  const env = { ATTEMPTS_PER_INVOCATION: '1' };

  it('skips entries finished above the offset when the entry before them is retried', async () => {
    h = await createHarness(env);
    const { first, second, invalid } = await seed();
    h.proxy.setHook(bindingOfAThrottled);
    expect(await h.invoke()).toMatchObject({ applied: 1, invalid: 1, stoppedBy: 'transient_error' });
    h.proxy.setHook(undefined);
    expect(await h.offsetItem()).toMatchObject({ finished: [`${second}..${invalid}`] });
    await setGameStatus(h.documents, h.gamesTable, 'b', 'starting');

    expect(await h.invoke()).toMatchObject({ applied: 1, invalid: 0, stoppedBy: 'drained', lastEntryId: invalid });
    expect(await h.getGame('a')).toMatchObject({ status: 'running' });
    expect(await h.getGame('b')).toMatchObject({ status: 'starting' });
    expect((await h.read(h.streams.deadLetters)).map((m) => m.fields.dead_letter_source_id)).toEqual([invalid]);
    expect(await h.offsetItem()).not.toHaveProperty('finished');
    expect(first).not.toBe(invalid);
  }, 60_000);

  it.skipIf(skipSlow)(
    'crash variant: killed right after the commit that records them, the replay still skips them',
    async () => {
      h = await createHarness(env);
      const { second, invalid } = await seed();
      let committed = false;
      const child = spawnInvocation({ ...h.env, TIME_BUDGET_MARGIN_MS: '0' }, 8_000);
      h.proxy.setHook((call) => {
        if (bindingOfAThrottled(call) === throttled) return throttled;
        if (!isOffsetCommit(call) || committed) return forward;
        committed = true;
        return { kind: 'forward', after: async () => void child.process.kill('SIGKILL') };
      });
      expect((await child.ended).signal).toBe('SIGKILL');
      h.proxy.setHook(undefined);
      expect(await h.offsetItem()).toMatchObject({ finished: [`${second}..${invalid}`] });
      await sleep(leaseExpiry(await h.offsetItem()));
      await setGameStatus(h.documents, h.gamesTable, 'b', 'starting');

      expect(await h.invoke()).toMatchObject({ applied: 1, stoppedBy: 'drained', lastEntryId: invalid });
      expect(await h.getGame('a')).toMatchObject({ status: 'running' });
      expect(await h.getGame('b')).toMatchObject({ status: 'starting' });
      expect((await h.read(h.streams.deadLetters)).map((m) => m.fields.dead_letter_source_id)).toEqual([invalid]);
    },
    60_000,
  );

  it.skipIf(skipSlow)(
    'crash variant: killed between the status write and the commit, the replay ends as a run without the crash',
    async () => {
      h = await createHarness(env);
      const { invalid } = await seed();
      await crashAt(isOffsetCommit, bindingOfAThrottled);
      expect(await h.getGame('b')).toMatchObject({ status: 'start_failed' });

      expect(await h.invoke()).toMatchObject({ stoppedBy: 'drained', lastEntryId: invalid });
      expect(await h.getGame('a')).toMatchObject({ status: 'running' });
      expect(await h.getGame('b')).toMatchObject({ status: 'start_failed' });
      expect([...((await deadLetterReasons()).get(invalid) ?? [])]).toEqual(['invalid_game_id']);
      expect(await h.offsetItem()).not.toHaveProperty('finished');
    },
    60_000,
  );
});
