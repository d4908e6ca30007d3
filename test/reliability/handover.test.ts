/**
 * The hand-over between following invocations, as the separate processes Lambda runs them
 * in: the next invocation asks for the lease and takes over when the holder lets go (or,
 * when the holder was killed, when its lease expires), and no entry is applied twice or
 * skipped. Order and counts are asserted; the one timing bound is far from the holder's own
 * stop time.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { compareEntryIds } from '../../functions/runtime-job-results/domain/entry-id.js';
import { spawnInvocation } from '../../local/child-invocation.js';
import { successFields } from './support/hooks.js';
import { skipSlow } from '../support/slow.js';

let h: Harness;

afterEach(async () => {
  await h.cleanup();
});

/** Adds a `starting` game and its success result every `everyMs` until `until()` says stop. */
const trickle = async (prefix: string, everyMs: number, until: () => boolean): Promise<Map<string, string>> => {
  const added = new Map<string, string>();
  for (let i = 0; !until(); i += 1) {
    const gameId = `${prefix}-${i}`;
    await h.putGame({ gameId, status: 'starting' });
    added.set(gameId, await h.addResult(successFields(gameId)));
    await sleep(everyMs);
  }
  return added;
};

const waitFor = async (condition: () => Promise<boolean>, what: string): Promise<void> => {
  for (let i = 0; i < 1_200; i += 1) {
    if (await condition()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
};

/** Each game running, registered once, by the entry that was added for it. */
const expectEachAppliedOnce = async (added: ReadonlyMap<string, string>): Promise<void> => {
  for (const [gameId, entryId] of added) {
    expect(await h.getGame(gameId), gameId).toMatchObject({ status: 'running' });
    expect(h.gameMaster.callsFor(gameId).map((call) => call.headers['idempotency-key'])).toEqual([entryId]);
  }
};

describe.skipIf(skipSlow)('hand-over between following invocations', () => {
  it('the second asks while the first follows, takes over when it hands over; each entry applied once', async () => {
    h = await createHarness({ POLL_INTERVAL_MS: '100', TIME_BUDGET_MARGIN_MS: '2000' });
    const first = spawnInvocation(h.env, 9_000);
    await waitFor(async () => (await h.offsetItem())?.leaseOwner !== undefined, 'the first to take the lease');
    let stopped = false;
    const feeding = trickle('ho', 100, () => stopped);
    await sleep(2_000);
    const second = spawnInvocation(h.env, 12_000);
    const firstEnd = await first.ended;
    // Keep adding while the second follows alone, then let it finish.
    await sleep(1_500);
    stopped = true;
    const added = await feeding;
    const secondEnd = await second.ended;

    // The first handed over when asked, long before its own stop (9 s less the 2 s margin).
    expect(firstEnd).toMatchObject({ code: 0, summary: { handoverWaitMs: 0, stoppedBy: 'handed_over' } });
    expect(secondEnd).toMatchObject({ code: 0, summary: { stoppedBy: 'drained' } });
    const [a, b] = [firstEnd.summary, secondEnd.summary];
    if (a === undefined || b === undefined) throw new Error('an invocation printed no summary');
    // The second waited for the lease rather than returning at once, and both did work.
    expect(b.handoverWaitMs).toBeGreaterThan(0);
    expect(b.handoverWaitMs).toBeLessThan(3_000);
    expect(a.applied).toBeGreaterThan(0);
    expect(b.applied).toBeGreaterThan(0);
    expect(a.applied + b.applied).toBe(added.size);
    // The second started where the first stopped: every entry it applied came after.
    const secondsEntries = [...added.values()].filter((id) => compareEntryIds(id, a.lastEntryId) > 0);
    expect(secondsEntries).toHaveLength(b.applied);
    await expectEachAppliedOnce(added);
    expect(await h.offsetItem()).toMatchObject({ lastEntryId: [...added.values()].at(-1) });
  }, 90_000);

  it('two askers: the holder hands over once, never two hold at once, each entry applied once', async () => {
    h = await createHarness({ POLL_INTERVAL_MS: '100', TIME_BUDGET_MARGIN_MS: '2000' });
    const holder = spawnInvocation(h.env, 12_000);
    await waitFor(async () => (await h.offsetItem())?.leaseOwner !== undefined, 'the holder to take the lease');
    let stopped = false;
    const feeding = trickle('two', 100, () => stopped);
    await sleep(1_000);
    const askerA = spawnInvocation(h.env, 12_000);
    const askerB = spawnInvocation(h.env, 12_000);
    const holderEnd = await holder.ended;
    await sleep(1_000);
    stopped = true;
    const added = await feeding;
    const [aEnd, bEnd] = await Promise.all([askerA.ended, askerB.ended]);

    const endings = [holderEnd, aEnd, bEnd].map((end) => end.summary);
    for (const end of [holderEnd, aEnd, bEnd]) expect(end.code).toBe(0);
    if (endings.some((summary) => summary === undefined)) throw new Error('an invocation printed no summary');
    expect(endings[0]?.stoppedBy).toBe('handed_over');
    // The two askers started together: whichever took the lease, the other handed it on in
    // turn, or found it held by one that outlasts it.
    const stops = endings.slice(1).map((summary) => summary?.stoppedBy);
    expect(stops).toContain('drained');
    expect(['drained', 'handed_over', 'lease_held']).toEqual(expect.arrayContaining(stops as string[]));
    const applied = endings.reduce((sum, summary) => sum + (summary?.applied ?? 0), 0);
    expect(applied).toBe(added.size);
    await expectEachAppliedOnce(added);
    expect(await h.offsetItem()).toMatchObject({ lastEntryId: [...added.values()].at(-1) });
  }, 90_000);

  it("a killed holder's lease is taken over when it expires, and nothing is lost", async () => {
    h = await createHarness({ POLL_INTERVAL_MS: '100', TIME_BUDGET_MARGIN_MS: '2500' });
    const holder = spawnInvocation(h.env, 7_000);
    await waitFor(async () => (await h.offsetItem())?.leaseOwner !== undefined, 'the holder to take the lease');
    let stopped = false;
    const feeding = trickle('kh', 100, () => stopped);
    await waitFor(async () => h.gameMaster.callsFor('kh-2').length > 0, 'the holder to apply entries');
    holder.process.kill('SIGKILL');
    expect((await holder.ended).signal).toBe('SIGKILL');
    const held = await h.offsetItem();
    const expiresAt = held?.leaseExpiresAt;
    if (typeof expiresAt !== 'number') throw new Error('the killed holder left no lease');

    const next = spawnInvocation(h.env, 15_000);
    // Entries keep arriving while nobody follows. Until the dead holder's lease expires, it
    // stays the dead holder's: the next invocation waits rather than taking it early.
    while (Date.now() < expiresAt - 100) {
      expect((await h.offsetItem())?.leaseOwner).toBe(held?.leaseOwner);
      await sleep(100);
    }
    await waitFor(async () => Date.now() > expiresAt + 1_500, 'the lease to expire');
    stopped = true;
    const added = await feeding;
    const ending = await next.ended;

    expect(ending).toMatchObject({ code: 0, summary: { stoppedBy: 'drained' } });
    expect(ending.summary?.handoverWaitMs).toBeGreaterThan(0);
    for (const [gameId] of added) expect(await h.getGame(gameId), gameId).toMatchObject({ status: 'running' });
    // An entry the holder was applying when it died may be registered again (same key);
    // every entry after the holder's last commit is applied by the next invocation.
    for (const [gameId, entryId] of added) {
      expect(new Set(h.gameMaster.callsFor(gameId).map((call) => call.headers['idempotency-key']))).toEqual(
        new Set([entryId]),
      );
    }
    expect(await h.offsetItem()).toMatchObject({ lastEntryId: [...added.values()].at(-1) });
    expect(await h.offsetItem()).not.toHaveProperty('leaseOwner');
  }, 90_000);
});
