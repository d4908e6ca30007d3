/**
 * The success flow's first write is its read and its binding at once (docs/contract.md §5.3),
 * so a Lobby cancel lands either before it or after it, never in between. Each ordering, and
 * a process killed just before or just after that write, ends in a state where no stop job is
 * owed: the game is either cancelled without this entry's binding (ignored, as the Go worker
 * ignores a game it reads as not `starting`) or holds this entry's binding (Lobby owns it, as
 * any bound game), and no stop job is ever sent.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { leaseExpiry, spawnInvocation } from '../../local/child-invocation.js';
import { forward, gameIdOf } from '../../local/dynamodb-proxy.js';
import type { ProxyAction, ProxyHook } from '../../local/dynamodb-proxy.js';
import { setGameStatus } from '../../local/lobby-race.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { skipSlow } from '../support/slow.js';
import { isBindingWrite, isStatusWrite, successFields } from './support/hooks.js';

let h: Harness;

afterEach(async () => {
  await h.cleanup();
});

const cancel = (gameId: string): Promise<void> => setGameStatus(h.documents, h.gamesTable, gameId, 'cancelled');

/** `action` for the binding write of `gameId`, a plain forward for everything else. */
const atBinding =
  (gameId: string, action: ProxyAction | (() => Promise<ProxyAction>)): ProxyHook =>
  (call) => {
    if (gameIdOf(call) !== gameId || !isBindingWrite(call, gameId)) return forward;
    return typeof action === 'function' ? action() : action;
  };

/** Kills the process as its write arrives, and never lets the write reach DynamoDB. */
const killBefore =
  (kill: () => Promise<void>): (() => Promise<ProxyAction>) =>
  async () => {
    await kill();
    return { kind: 'drop' };
  };

const stopJobsFor = async (gameId: string) =>
  (await h.read(h.streams.stopJobs)).filter((message) => message.fields.game_id === gameId);

/** Runs one invocation in a child process that the proxy hook may kill; waits for its lease to lapse. */
const killedInvocation = async (hookFor: (kill: () => Promise<void>) => ProxyHook): Promise<void> => {
  const child = spawnInvocation({ ...h.env, TIME_BUDGET_MARGIN_MS: '0' }, 3_000);
  h.proxy.setHook(
    hookFor(async () => {
      child.process.kill('SIGKILL');
    }),
  );
  expect((await child.ended).signal).toBe('SIGKILL');
  h.proxy.setHook(undefined);
  await sleep(leaseExpiry(await h.offsetItem()));
};

describe("Lobby's cancel against the binding write", () => {
  it('a cancel before the write: the entry is ignored, nothing bound, nothing sent', async () => {
    h = await createHarness();
    await h.putGame({ gameId: 'before', status: 'starting' });
    const entryId = await h.addResult(successFields('before'));
    h.proxy.setHook(atBinding('before', { kind: 'forward', before: () => cancel('before') }));

    expect(await h.invoke()).toMatchObject({ ignored: 1, stoppedBy: 'drained', lastEntryId: entryId });
    expect(await h.getGame('before')).toMatchObject({ status: 'cancelled' });
    expect(await h.getGame('before')).not.toHaveProperty('runtimeBinding');
    expect(h.gameMaster.callsFor('before')).toEqual([]);
    expect(await stopJobsFor('before')).toEqual([]);
  });

  it('a cancel after the write: the game keeps this binding, and the start flow ends there', async () => {
    h = await createHarness();
    await h.putGame({ gameId: 'after', status: 'starting' });
    const entryId = await h.addResult(successFields('after'));
    h.proxy.setHook(atBinding('after', { kind: 'forward', after: () => cancel('after') }));

    expect(await h.invoke()).toMatchObject({ ignored: 1, stoppedBy: 'drained', lastEntryId: entryId });
    expect(await h.getGame('after')).toMatchObject({ status: 'cancelled', runtimeBinding: { runtimeJobId: entryId } });
    expect(await stopJobsFor('after')).toEqual([]);
  });

  it('a cancel after the running write changes nothing: the game ran with this binding', async () => {
    h = await createHarness();
    await h.putGame({ gameId: 'late', status: 'starting' });
    const entryId = await h.addResult(successFields('late'));
    h.proxy.setHook((call) =>
      isStatusWrite(call, 'late', 'running') ? { kind: 'forward', after: () => cancel('late') } : forward,
    );

    expect(await h.invoke()).toMatchObject({ applied: 1, stoppedBy: 'drained', lastEntryId: entryId });
    expect(await h.getGame('late')).toMatchObject({ status: 'cancelled', runtimeBinding: { runtimeJobId: entryId } });
    expect(await stopJobsFor('late')).toEqual([]);
  });
});

describe.skipIf(skipSlow)('a process killed around the binding write', () => {
  it('killed before the write reaches DynamoDB: the replay binds and runs the game', async () => {
    h = await createHarness();
    await h.putGame({ gameId: 'k-before', status: 'starting' });
    const entryId = await h.addResult(successFields('k-before'));
    await killedInvocation((kill) => atBinding('k-before', killBefore(kill)));
    expect(await h.getGame('k-before')).not.toHaveProperty('runtimeBinding');

    expect(await h.invoke()).toMatchObject({ applied: 1, stoppedBy: 'drained', lastEntryId: entryId });
    expect(await h.getGame('k-before')).toMatchObject({ status: 'running', runtimeBinding: { runtimeJobId: entryId } });
    expect(await stopJobsFor('k-before')).toEqual([]);
  });

  it('killed after the write applied: the replay finds its own binding on a starting game and runs it', async () => {
    h = await createHarness();
    await h.putGame({ gameId: 'k-after', status: 'starting' });
    const entryId = await h.addResult(successFields('k-after'));
    await killedInvocation((kill) => atBinding('k-after', { kind: 'forward', after: kill }));
    expect(await h.getGame('k-after')).toMatchObject({ status: 'starting', runtimeBinding: { runtimeJobId: entryId } });

    expect(await h.invoke()).toMatchObject({ applied: 1, stoppedBy: 'drained', lastEntryId: entryId });
    expect(await h.getGame('k-after')).toMatchObject({ status: 'running', runtimeBinding: { runtimeJobId: entryId } });
    expect(h.gameMaster.callsFor('k-after')).toHaveLength(1);
    expect(await stopJobsFor('k-after')).toEqual([]);
  });

  it('killed after the write, then cancelled by Lobby: the replay finds the game bound by it and leaves it', async () => {
    h = await createHarness();
    await h.putGame({ gameId: 'k-cancel', status: 'starting' });
    const entryId = await h.addResult(successFields('k-cancel'));
    await killedInvocation((kill) => atBinding('k-cancel', { kind: 'forward', after: kill }));
    await cancel('k-cancel');

    expect(await h.invoke()).toMatchObject({ ignored: 1, stoppedBy: 'drained', lastEntryId: entryId });
    expect(await h.getGame('k-cancel')).toMatchObject({
      status: 'cancelled',
      runtimeBinding: { runtimeJobId: entryId },
    });
    expect(await stopJobsFor('k-cancel')).toEqual([]);
  });

  it('killed before the write, then cancelled by Lobby: the replay ignores the game, as the Go worker would', async () => {
    h = await createHarness();
    await h.putGame({ gameId: 'k-gone', status: 'starting' });
    const entryId = await h.addResult(successFields('k-gone'));
    await killedInvocation((kill) => atBinding('k-gone', killBefore(kill)));
    await cancel('k-gone');

    expect(await h.invoke()).toMatchObject({ ignored: 1, stoppedBy: 'drained', lastEntryId: entryId });
    expect(await h.getGame('k-gone')).toMatchObject({ status: 'cancelled' });
    expect(await h.getGame('k-gone')).not.toHaveProperty('runtimeBinding');
    expect(await stopJobsFor('k-gone')).toEqual([]);
  });
});
