/**
 * Overlapping invocations as the separate processes Lambda runs them in: several started at
 * once on one backlog apply each entry exactly once, and when the lease holder is killed
 * its lease is taken over after its deadline, never before.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { forward } from '../../local/dynamodb-proxy.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { leaseExpiry, spawnInvocation } from './support/child-invocation.js';
import { successFields } from './support/hooks.js';

let h: Harness;

afterEach(async () => {
  await h.cleanup();
});

const seedBacklog = async (count: number): Promise<string[]> => {
  const ids = Array.from({ length: count }, (_, i) => `ov-${i}`);
  for (const id of ids) {
    await h.putGame({ gameId: id, status: 'starting' });
    await h.addResult(successFields(id));
  }
  return ids;
};

const expectEachAppliedOnce = async (ids: readonly string[]): Promise<void> => {
  for (const id of ids) {
    expect(await h.getGame(id)).toMatchObject({ status: 'running' });
    // Every registration of a game carries the one entry that started it.
    expect(new Set(h.gameMaster.callsFor(id).map((call) => call.headers['idempotency-key'])).size).toBe(1);
  }
};

describe('overlapping invocations in separate processes', () => {
  it('three processes started at once apply each entry of one backlog exactly once', async () => {
    h = await createHarness();
    const ids = await seedBacklog(40);
    h.gameMaster.setDefaultBehaviour({ kind: 'slow', delayMs: 20 });
    const children = [0, 1, 2].map(() => spawnInvocation(h.env, 20_000));
    const endings = await Promise.all(children.map((child) => child.ended));

    for (const ending of endings) expect(ending).toMatchObject({ code: 0 });
    const summaries = endings.map((ending) => ending.summary);
    // One took the lease and did the work; the others found it held (or, starting late,
    // found nothing left).
    expect(summaries.filter((s) => s?.stoppedBy === 'lease_held').length).toBeGreaterThanOrEqual(1);
    expect(summaries.reduce((sum, s) => sum + (s?.applied ?? 0), 0)).toBe(ids.length);
    for (const id of ids) expect(h.gameMaster.callsFor(id)).toHaveLength(1);
    await expectEachAppliedOnce(ids);
    expect(await h.offsetItem()).not.toHaveProperty('leaseOwner');
  }, 60_000);

  it('a killed holder keeps the lease until its deadline; the next invocation after it finishes the backlog', async () => {
    h = await createHarness({ MAX_CONCURRENCY: '1' });
    const ids = await seedBacklog(12);
    h.gameMaster.setDefaultBehaviour({ kind: 'slow', delayMs: 50 });
    const holder = spawnInvocation({ ...h.env, TIME_BUDGET_MARGIN_MS: '0' }, 5_000);
    let running = 0;
    h.proxy.setHook((call) =>
      call.operation === 'UpdateItem' &&
      JSON.stringify(call.body.ExpressionAttributeValues ?? {}).includes('{"S":"running"}')
        ? {
            kind: 'forward',
            after: async () => {
              running += 1;
              // Dies right after its fourth game went running, before hearing back.
              if (running === 4) holder.process.kill('SIGKILL');
            },
          }
        : forward,
    );
    expect((await holder.ended).signal).toBe('SIGKILL');
    h.proxy.setHook(undefined);
    const held = await h.offsetItem();
    expect(held).toMatchObject({ leaseOwner: expect.any(String), leaseExpiresAt: expect.any(Number) });

    // Before the deadline: a new invocation must not take over. Its clock is pinned just
    // before the holder's deadline, so a slow machine cannot turn this into a takeover test.
    const early = await h.invoke({ handler: { nowMs: () => (held?.leaseExpiresAt as number) - 1 } });
    expect(early).toMatchObject({ stoppedBy: 'lease_held', entriesRead: 0 });

    await sleep(leaseExpiry(held));
    const late = await spawnInvocation(h.env, 20_000).ended;
    expect(late.summary).toMatchObject({ stoppedBy: 'drained' });
    expect(late.summary?.applied).toBeGreaterThanOrEqual(ids.length - 4);
    await expectEachAppliedOnce(ids);
    const offset = await h.offsetItem();
    expect(offset).not.toHaveProperty('leaseOwner');
    expect(offset?.lastEntryId).toBe(late.summary?.lastEntryId);
  }, 60_000);
});
