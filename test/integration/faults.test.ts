import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHarness } from '../support/consumer-harness.js';
import { leaseExpiry } from '../../local/child-invocation.js';
import type { Harness } from '../support/consumer-harness.js';
import { forward, gameIdOf, internalError } from '../../local/dynamodb-proxy.js';
import type { ProxyAction } from '../../local/dynamodb-proxy.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness({ MAX_ATTEMPTS: '3', ATTEMPTS_PER_INVOCATION: '1', MAX_CONCURRENCY: '1' });
});
afterAll(async () => {
  await h.cleanup();
});
beforeEach(() => {
  h.proxy.setHook(undefined);
  h.gameMaster.reset();
});

const failing = (gameId: string, action: ProxyAction) =>
  h.proxy.setHook((call) => (call.tableName === h.gamesTable && gameIdOf(call) === gameId ? action : forward));

describe('transient errors', () => {
  it('keeps a result whose game table writes fail, and dead-letters it only after MAX_ATTEMPTS', async () => {
    await h.putGame({ gameId: 'fa', status: 'starting' });
    await h.putGame({ gameId: 'fb', status: 'starting' });
    await h.putGame({ gameId: 'fc', status: 'starting' });
    const a = await h.addResult({ game_id: 'fa', outcome: 'failure' });
    const b = await h.addResult({ game_id: 'fb', outcome: 'failure' });
    const c = await h.addResult({ game_id: 'fc', outcome: 'failure' });
    failing('fb', { kind: 'drop' });

    const first = await h.invoke();
    expect(first).toMatchObject({ stoppedBy: 'transient_error', lastEntryId: a });
    expect(await h.offsetItem()).toMatchObject({ lastEntryId: a, attempts: { [b]: { attempts: 1 } } });
    expect(await h.getGame('fc')).toMatchObject({ status: 'start_failed' });

    expect(await h.invoke()).toMatchObject({ stoppedBy: 'transient_error', lastEntryId: a });
    expect((await h.read(h.streams.deadLetters)).filter((m) => m.fields.dead_letter_source_id === b)).toEqual([]);

    const third = await h.invoke();
    expect(third).toMatchObject({ stoppedBy: 'drained', lastEntryId: c, deadLettered: 1 });
    const dead = (await h.read(h.streams.deadLetters)).filter((m) => m.fields.dead_letter_source_id === b);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.fields.dead_letter_reason).toMatch(/^retries_exhausted: /);
    expect(dead[0]?.fields.dead_letter_attempts).toBe('3');
    expect(await h.getGame('fb')).toMatchObject({ status: 'starting' });
    expect(await h.offsetItem()).toMatchObject({ lastEntryId: c, attempts: {} });
  });

  it('applies the result once DynamoDB answers again, with no dead letter', async () => {
    await h.putGame({ gameId: 'fd', status: 'starting' });
    const d = await h.addResult({ game_id: 'fd', outcome: 'failure' });
    failing('fd', internalError);
    expect(await h.invoke()).toMatchObject({ stoppedBy: 'transient_error' });
    h.proxy.setHook(undefined);
    expect(await h.invoke()).toMatchObject({ stoppedBy: 'drained', applied: 1, lastEntryId: d });
    expect(await h.getGame('fd')).toMatchObject({ status: 'start_failed' });
    expect((await h.read(h.streams.deadLetters)).filter((m) => m.fields.dead_letter_source_id === d)).toEqual([]);
  });
});

describe('crash between the paused write and the intent publish', () => {
  it('publishes the intent on the next invocation, under the same key', async () => {
    await h.putGame({ gameId: 'crash', status: 'starting' });
    h.gameMaster.setBehaviour('crash', { kind: 'fail', status: 502 });
    const entryId = await h.addResult({
      game_id: 'crash',
      outcome: 'success',
      container_id: 'c',
      engine_endpoint: 'http://e/',
    });

    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/invoke.ts'], {
      env: { ...process.env, ...h.env, INVOKE_TIMEOUT_MS: '4000', TIME_BUDGET_MARGIN_MS: '0' },
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    // The paused write reaches DynamoDB; the process dies before it hears back.
    h.proxy.setHook((call) =>
      call.operation === 'UpdateItem' &&
      gameIdOf(call) === 'crash' &&
      JSON.stringify(call.body.ExpressionAttributeValues ?? {}).includes('"paused"')
        ? {
            kind: 'forward',
            after: async () => {
              child.kill('SIGKILL');
              await exited;
            },
          }
        : forward,
    );
    expect(await exited).toBe('SIGKILL');
    h.proxy.setHook(undefined);

    const game = await h.getGame('crash');
    expect(game).toMatchObject({
      status: 'paused',
      pendingIntent: { idempotencyKey: `lobby.runtime_paused_after_start:${entryId}` },
    });
    expect(await h.read(h.streams.notificationIntents)).toEqual([]);

    // The dead invocation's lease holds until its deadline (asked with a clock pinned just
    // before it, so a slow machine cannot let it expire first), then frees itself.
    const held = await h.offsetItem();
    expect(await h.invoke({ handler: { nowMs: () => (held?.leaseExpiresAt as number) - 1 } })).toMatchObject({
      stoppedBy: 'lease_held',
    });
    await sleep(leaseExpiry(held));
    expect(await h.invoke()).toMatchObject({ stoppedBy: 'drained', applied: 1, lastEntryId: entryId });

    const intents = await h.read(h.streams.notificationIntents);
    expect(intents.map((m) => m.fields.idempotency_key)).toEqual([`lobby.runtime_paused_after_start:${entryId}`]);
    expect(await h.getGame('crash')).not.toHaveProperty('pendingIntent');
    expect(h.gameMaster.callsFor('crash')).toHaveLength(1);
  });
});

describe('overlapping invocations', () => {
  it('applies every entry of one backlog exactly once when two invocations start together', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `overlap-${i}`);
    for (const id of ids) {
      await h.putGame({ gameId: id, status: 'starting' });
      await h.addResult({ game_id: id, outcome: 'success', container_id: 'c', engine_endpoint: 'http://e/' });
    }
    h.gameMaster.setDefaultBehaviour({ kind: 'slow', delayMs: 20 });
    const summaries = await Promise.all([h.invoke({ env: {} }), h.invoke({ env: {} })]);
    h.gameMaster.setDefaultBehaviour({ kind: 'ok' });
    // Whichever lost the lease race came back at once; the other did all the work.
    expect(summaries.map((s) => s.stoppedBy).sort()).toEqual(['drained', 'lease_held']);
    expect(summaries.reduce((sum, s) => sum + s.applied, 0)).toBe(ids.length);
    for (const id of ids) {
      expect(h.gameMaster.callsFor(id)).toHaveLength(1);
      expect(await h.getGame(id)).toMatchObject({ status: 'running' });
    }
  });
});
