/**
 * Follow mode with the real handler against DynamoDB Local, redis-server and the Game
 * Master stub: results added while an invocation follows are applied by it, and it returns
 * before its deadline, keeping the margin. Bounds are wide: the machine may be loaded.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { successFields } from '../reliability/support/hooks.js';

let h: Harness;

afterEach(async () => {
  await h.cleanup();
});

/** Resolves once an invocation holds the lease (it has started following). */
const leaseTaken = async (): Promise<void> => {
  for (let i = 0; i < 400; i += 1) {
    if ((await h.offsetItem())?.leaseOwner !== undefined) return;
    await sleep(25);
  }
  throw new Error('no invocation took the lease');
};

describe('follow mode (POLL_INTERVAL_MS > 0)', () => {
  it('applies an entry added while the invocation follows, before it returns', async () => {
    h = await createHarness({ POLL_INTERVAL_MS: '100', TIME_BUDGET_MARGIN_MS: '2500' });
    await h.putGame({ gameId: 'fw-1', status: 'starting' });
    await h.putGame({ gameId: 'fw-2', status: 'starting' });
    const invocation = h.invoke({ timeoutMs: 9_000 });
    await leaseTaken();
    const first = await h.addResult(successFields('fw-1'));
    await sleep(1_500);
    const second = await h.addResult(successFields('fw-2'));
    const summary = await invocation;

    expect(summary).toMatchObject({ entriesRead: 2, applied: 2, lastEntryId: second, stoppedBy: 'drained' });
    expect(summary.emptyPolls).toBeGreaterThan(0);
    expect(summary.followedMs).toBeGreaterThan(0);
    expect(summary.handoverWaitMs).toBe(0);
    for (const id of ['fw-1', 'fw-2']) expect(await h.getGame(id)).toMatchObject({ status: 'running' });
    expect(h.gameMaster.callsFor('fw-1').map((call) => call.headers['idempotency-key'])).toEqual([first]);
    // Committed and released: the next invocation starts after the second entry.
    expect(await h.offsetItem()).toMatchObject({ lastEntryId: second });
    expect(await h.offsetItem()).not.toHaveProperty('leaseOwner');
  }, 60_000);

  it('returns before its deadline, keeping the margin, after following until the margin', async () => {
    const timeoutMs = 6_000;
    const marginMs = 3_000;
    h = await createHarness({ POLL_INTERVAL_MS: '200', TIME_BUDGET_MARGIN_MS: String(marginMs) });
    const started = Date.now();
    const summary = await h.invoke({ timeoutMs });
    const elapsed = Date.now() - started;

    expect(summary).toMatchObject({ entriesRead: 0, stoppedBy: 'drained' });
    // It followed until the margin was reached (less at most one idle wait), not returning
    // when it found the stream empty…
    expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - marginMs - 1_000);
    expect(summary.followedMs).toBeLessThanOrEqual(timeoutMs - marginMs);
    // …and it was done before the deadline.
    expect(elapsed).toBeLessThan(timeoutMs);
    // Idle: one read per poll, and no more than one a second once backed off.
    expect(summary.emptyPolls).toBeGreaterThanOrEqual(2);
    expect(summary.emptyPolls).toBeLessThanOrEqual(Math.ceil((timeoutMs - marginMs) / 200));
  }, 60_000);

  it('writes nothing to DynamoDB while the stream is idle, apart from the lease and its release', async () => {
    h = await createHarness({ POLL_INTERVAL_MS: '100', TIME_BUDGET_MARGIN_MS: '2500' });
    const calls: string[] = [];
    h.proxy.setHook((call) => {
      calls.push(`${call.operation} ${String(call.body.UpdateExpression ?? '').split(' ')[0]}`);
      return { kind: 'forward' };
    });
    const summary = await h.invoke({ timeoutMs: 6_000 });
    h.proxy.setHook(undefined);
    expect(summary.emptyPolls).toBeGreaterThanOrEqual(2);
    // Take the lease, release it: nothing else, however many polls came back empty.
    expect(calls).toEqual(['UpdateItem SET', 'UpdateItem REMOVE']);
  }, 60_000);
});
