import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbOffsetStore } from '../../functions/runtime-job-results/adapters/dynamodb-offset-store.js';
import { offsetReset, offsetSet } from '../../ops/commands/offset.js';
import { ExitCode } from '../../ops/errors.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { OPERATOR, putOffset, runOps } from './support.js';
import { testBounds } from '../support/bounds.js';

let h: Harness;
/** Three failure results for three games, processed once: the offset is at the third. */
let ids: string[];

beforeAll(async () => {
  h = await createHarness();
  ids = [];
  for (const gameId of ['off-1', 'off-2', 'off-3']) {
    await h.putGame({ gameId, status: 'starting' });
    ids.push(await h.addResult({ game_id: gameId, outcome: 'failure' }));
  }
  expect(await h.invoke()).toMatchObject({ applied: 3, stoppedBy: 'drained' });
});
afterAll(async () => {
  await h.cleanup();
});
beforeEach(async () => {
  await putOffset(h, { lastEntryId: ids[2] });
});

const offset = async (): Promise<unknown> => (await h.offsetItem())?.lastEntryId;

describe('ops offset set / reset', () => {
  it('moves the offset back after a yes, warns that replays cost requests, and the consumer replays invisibly', async () => {
    const run = await runOps(h, (ctx) => offsetSet(ctx, ids[0] as string), { answer: true });
    expect(run.code).toBe(ExitCode.ok);
    expect(run.questions).toEqual(['Move the offset?']);
    expect(run.stderr).toContain('process 2 entries again');
    expect(run.stderr).toContain('cost requests');
    expect(run.result).toMatchObject({
      previous: ids[2],
      lastEntryId: ids[0],
      direction: 'back',
      entries: 2,
      changed: true,
    });
    const item = await h.offsetItem();
    expect(item).toMatchObject({ lastEntryId: ids[0] });
    // The operator's lease is released and the consumer's last summary is untouched.
    expect(item?.leaseOwner).toBeUndefined();
    expect(item?.lastInvocation).toMatchObject({ applied: 3 });

    expect(await h.invoke()).toMatchObject({ entriesRead: 2, ignored: 2, lastEntryId: ids[2] });
    expect(await h.getGame('off-2')).toMatchObject({ status: 'start_failed' });
  });

  it('moving forward says how many entries are skipped for good', async () => {
    await putOffset(h, {
      lastEntryId: ids[0],
      attempts: {
        [ids[1] as string]: { attempts: 2, lastError: 'x' },
        [ids[2] as string]: { attempts: 1, lastError: 'y' },
      },
    });
    const run = await runOps(h, (ctx) => offsetSet(ctx, ids[1] as string, { yes: true }));
    expect(run.code).toBe(ExitCode.ok);
    expect(run.questions).toEqual([]);
    expect(run.stderr).toContain('1 entry is SKIPPED');
    // Retry counts of entries at or below the new offset are dropped; the others kept.
    expect(await h.offsetItem()).toMatchObject({
      lastEntryId: ids[1],
      attempts: { [ids[2] as string]: { attempts: 1 } },
    });
    expect(Object.keys((await h.offsetItem())?.attempts as object)).toEqual([ids[2]]);
  });

  it('keeps the record of entries finished above the offset when moving forward, and drops it when moving back', async () => {
    await putOffset(h, { lastEntryId: ids[0], finished: [ids[2]] });
    await runOps(h, (ctx) => offsetSet(ctx, ids[1] as string, { yes: true }));
    expect(await h.offsetItem()).toMatchObject({ lastEntryId: ids[1], finished: [ids[2]] });

    // Back: the operator asked for these entries to be processed again, finished or not.
    await runOps(h, (ctx) => offsetSet(ctx, ids[0] as string, { yes: true }));
    expect(await h.offsetItem()).not.toHaveProperty('finished');
    expect(await h.invoke()).toMatchObject({ entriesRead: 2, ignored: 2, lastEntryId: ids[2] });
  });

  it('without a yes nothing changes and it exits 3', async () => {
    const run = await runOps(h, (ctx) => offsetSet(ctx, ids[0] as string), { answer: false, json: true });
    expect(run.code).toBe(ExitCode.refused);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: 'not_confirmed', exitCode: 3 } });
    expect(run.stderr).toContain('--yes');
    expect(await offset()).toBe(ids[2]);
  });

  it('refuses an id that is not in the stream unless --force', async () => {
    const absent = '1-0';
    const refused = await runOps(h, (ctx) => offsetSet(ctx, absent, { yes: true }));
    expect(refused.code).toBe(ExitCode.refused);
    expect(refused.stderr).toContain(`entry ${absent} is not in ${h.streams.results}`);
    expect(refused.stderr).toContain('--force');
    expect(await offset()).toBe(ids[2]);

    const forced = await runOps(h, (ctx) => offsetSet(ctx, absent, { yes: true, force: true }));
    expect(forced.code).toBe(ExitCode.ok);
    expect(await offset()).toBe(absent);
  });

  it('rejects something that is not an entry id as a usage error', async () => {
    const run = await runOps(h, (ctx) => offsetSet(ctx, 'yesterday', { yes: true }));
    expect(run.code).toBe(ExitCode.usage);
    expect(run.stderr).toContain('<ms>-<seq>');
  });

  it('asks a following invocation for the lease, moves the offset, and the follower hands over', async () => {
    const following = h.invoke({ timeoutMs: 30_000, env: { POLL_INTERVAL_MS: '100', TIME_BUDGET_MARGIN_MS: '2000' } });
    for (let i = 0; i < 200 && (await h.offsetItem())?.leaseOwner === undefined; i += 1) await sleep(25);
    const startedAt = Date.now();
    const run = await runOps(h, (ctx) => offsetSet(ctx, ids[1] as string, { yes: true }));
    expect(run.code).toBe(ExitCode.ok);
    expect(run.stderr).toContain('asking it to hand over');
    // It waited about one idle poll, not the follower's 28 s.
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(await following).toMatchObject({ stoppedBy: 'handed_over' });
    expect(await h.offsetItem()).toMatchObject({ lastEntryId: ids[1] });
    expect((await h.offsetItem())?.leaseOwner).toBeUndefined();
  });

  it('refuses with exit 4 at once while an invocation holds the lease and --lease-wait is 0', async () => {
    const store = new DynamoDbOffsetStore(h.documents, h.offsetsTable, testBounds('DynamoDB'));
    const now = Date.now();
    await store.acquireLease('invocation-abc', now + 60_000, now);
    try {
      const run = await runOps(h, (ctx) => offsetSet(ctx, ids[0] as string, { yes: true, leaseWaitMs: 0 }));
      expect(run.code).toBe(ExitCode.leaseHeld);
      expect(run.stderr).toContain('held by invocation-abc');
      expect(await h.offsetItem()).toMatchObject({ lastEntryId: ids[2], leaseOwner: 'invocation-abc' });
    } finally {
      await store.releaseLease('invocation-abc');
    }
  });

  it('exits 4 when an invocation takes the lease while the operator answers', async () => {
    const store = new DynamoDbOffsetStore(h.documents, h.offsetsTable, testBounds('DynamoDB'));
    const run = await runOps(h, (ctx) => offsetSet(ctx, ids[0] as string, { leaseWaitMs: 1_000 }), {
      answer: async () => {
        const now = Date.now();
        await store.acquireLease('invocation-late', now + 60_000, now);
        return true;
      },
    });
    await store.releaseLease('invocation-late');
    expect(run.code).toBe(ExitCode.leaseHeld);
    expect(await offset()).toBe(ids[2]);
  });

  it('refuses when the offset moved while the operator answered', async () => {
    const run = await runOps(h, (ctx) => offsetSet(ctx, ids[0] as string, { leaseWaitMs: 1_000 }), {
      answer: async () => {
        await putOffset(h, { lastEntryId: ids[1] });
        return true;
      },
    });
    expect(run.code).toBe(ExitCode.refused);
    expect(run.stderr).toContain(`moved from ${ids[2]} to ${ids[1]}`);
    expect(await h.offsetItem()).toMatchObject({ lastEntryId: ids[1] });
    expect((await h.offsetItem())?.leaseOwner).toBeUndefined();
  });

  it('setting the offset it already has changes nothing and asks nothing', async () => {
    const run = await runOps(h, (ctx) => offsetSet(ctx, ids[2] as string));
    expect(run.code).toBe(ExitCode.ok);
    expect(run.questions).toEqual([]);
    expect(run.result).toMatchObject({ changed: false, direction: 'none' });
  });

  it('reset goes back to 0-0 and the next invocation replays the whole stream', async () => {
    const run = await runOps(h, (ctx) => offsetReset(ctx, { yes: true }), { json: true });
    expect(run.code).toBe(ExitCode.ok);
    expect(JSON.parse(run.stdout)).toMatchObject({
      previous: ids[2],
      lastEntryId: '0-0',
      direction: 'back',
      entries: 3,
    });
    expect(run.stderr).toContain('process 3 entries again');
    expect(await offset()).toBe('0-0');
    expect(await h.invoke()).toMatchObject({ entriesRead: 3, ignored: 3, applied: 0 });
  });

  it('uses the operator name as the lease owner while it writes', async () => {
    const owners: unknown[] = [];
    h.proxy.setHook((call) => {
      if (call.operation === 'UpdateItem' && call.tableName === h.offsetsTable) {
        const values = call.body.ExpressionAttributeValues as Record<string, { S?: string }> | undefined;
        owners.push(values?.[':owner']?.S);
      }
      return { kind: 'forward' };
    });
    try {
      await runOps(h, (ctx) => offsetSet(ctx, ids[1] as string, { yes: true }));
    } finally {
      h.proxy.setHook(undefined);
    }
    // acquire, commit, release: every write fenced by the same owner.
    expect(owners).toEqual([OPERATOR, OPERATOR, OPERATOR]);
  });
});
