import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { replay, replayExitCode } from '../../ops/commands/replay.js';
import { ExitCode } from '../../ops/errors.js';
import { forward, gameIdOf, internalError } from '../../local/dynamodb-proxy.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { putOffset, runOps, success } from './support.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.cleanup();
});
beforeEach(() => {
  h.proxy.setHook(undefined);
  h.gameMaster.reset();
});

const replayRun = (from: string, to: string, options: { json?: boolean; verbose?: boolean } = {}) =>
  runOps(h, (ctx) => replay(ctx, { from, to }), { ...options, exitCodeOf: replayExitCode });

describe('ops replay', () => {
  it('finishes the start flow of entries the consumer skipped, without moving the offset', async () => {
    await h.putGame({ gameId: 'rp-1', status: 'starting' });
    await h.putGame({ gameId: 'rp-2', status: 'starting' });
    await h.putGame({ gameId: 'rp-3', status: 'running' });
    const first = await h.addResult(success('rp-1'));
    await h.addResult({ game_id: 'rp-2', outcome: 'failure', error_code: 'image_pull' });
    await h.addResult(success('rp-3'));
    const last = await h.addResult({ game_id: 'rp-4', outcome: 'unknown' });
    // An operator skipped them during an incident.
    await putOffset(h, { lastEntryId: last });

    const run = await replayRun(first, last);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.result).toMatchObject({
      entries: 4,
      results: { applied: 2, ignored: 1, invalid: 1, dead_lettered: 0, failed: 0, skipped: 0 },
      outcomes: { running: 1, paused: 0, start_failed: 1 },
      published: 1,
      failures: [],
    });
    expect(run.stdout).toContain('Replayed 4 entries');
    expect(run.stdout).toMatch(/applied\s+2/);
    expect(await h.getGame('rp-1')).toMatchObject({ status: 'running', runtimeBinding: { runtimeJobId: first } });
    expect(await h.getGame('rp-2')).toMatchObject({ status: 'start_failed' });
    expect(await h.getGame('rp-3')).toMatchObject({ status: 'running' });
    expect(h.gameMaster.callsFor('rp-1')[0]?.headers['idempotency-key']).toBe(first);
    expect((await h.read(h.streams.deadLetters)).map((m) => m.fields.dead_letter_source_id)).toContain(last);
    expect((await h.offsetItem())?.lastEntryId).toBe(last);

    // Replayed again: invisible.
    const again = await replayRun(first, last, { json: true });
    expect(JSON.parse(again.stdout)).toMatchObject({ results: { applied: 0, ignored: 3, invalid: 1 } });
    expect(h.gameMaster.callsFor('rp-1')).toHaveLength(1);
  });

  it('publishes an intent left in an outbox, under the same key, and clears it', async () => {
    h.gameMaster.setBehaviour('rp-paused', { kind: 'fail', status: 503 });
    await h.putGame({ gameId: 'rp-paused', status: 'starting' });
    const entry = await h.addResult(success('rp-paused'));
    await putOffset(h, { lastEntryId: '0-0' });
    // The intents stream refuses the publish: the game is paused with its intent in the outbox.
    await h.redis.exec(['SET', h.streams.notificationIntents, 'not a stream']);
    await h.invoke();
    await h.redis.exec(['DEL', h.streams.notificationIntents]);
    expect(await h.getGame('rp-paused')).toMatchObject({ status: 'paused', pendingIntent: { sourceEntryId: entry } });

    const run = await replayRun(entry, entry);
    expect(run.result).toMatchObject({ entries: 1, results: { applied: 1 }, published: 1 });
    const intents = await h.read(h.streams.notificationIntents);
    expect(intents.map((m) => m.fields.idempotency_key)).toEqual([`lobby.runtime_paused_after_start:${entry}`]);
    expect((await h.getGame('rp-paused'))?.pendingIntent).toBeUndefined();
  });

  it('reports a transient failure, holds back the later entries of that game, and exits 1', async () => {
    await h.putGame({ gameId: 'rp-flaky', status: 'starting' });
    await h.putGame({ gameId: 'rp-fine', status: 'starting' });
    const first = await h.addResult({ game_id: 'rp-flaky', outcome: 'failure' });
    await h.addResult(success('rp-flaky'));
    const last = await h.addResult({ game_id: 'rp-fine', outcome: 'failure' });
    h.proxy.setHook((call) =>
      call.tableName === h.gamesTable && gameIdOf(call) === 'rp-flaky' ? internalError : forward,
    );

    const run = await replayRun(first, last, { verbose: true });
    expect(run.code).toBe(ExitCode.operational);
    expect(run.result).toMatchObject({ results: { applied: 1, failed: 1, skipped: 1 } });
    expect(run.result?.failures).toEqual([
      { entryId: first, gameId: 'rp-flaky', error: expect.stringContaining('InternalServerError') },
    ]);
    expect(run.stdout).toContain('Failed (transient');
    // --verbose shows the start flow's own log lines.
    expect(run.stderr).toContain('"message":"game start failed"');
    expect(await h.getGame('rp-flaky')).toMatchObject({ status: 'starting' });
    expect(await h.getGame('rp-fine')).toMatchObject({ status: 'start_failed' });
  });

  it('takes - and + for the ends of the stream', async () => {
    const run = await replayRun('-', '+');
    expect(run.code).toBe(ExitCode.ok);
    expect(run.result?.entries).toBe((await h.read(h.streams.results)).length);
  });

  it.each([
    ['a range backwards', '20-0', '10-0', 'is after --to'],
    ['a bound that is not an id', 'now', '+', '--from must be a stream entry id'],
  ])('rejects %s as a usage error', async (_, from, to, message) => {
    const run = await replayRun(from, to);
    expect(run.code).toBe(ExitCode.usage);
    expect(run.stderr).toContain(message);
  });
});
