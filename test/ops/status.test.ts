import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbOffsetStore } from '../../functions/runtime-job-results/adapters/dynamodb-offset-store.js';
import { gameShow } from '../../ops/commands/game.js';
import { offsetShow } from '../../ops/commands/offset.js';
import { status } from '../../ops/commands/status.js';
import { ExitCode } from '../../ops/errors.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { putOffset, runOps, success } from './support.js';
import { testBounds } from '../support/bounds.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.cleanup();
});

describe('ops status, offset show and game show', () => {
  it('status: a consumer that never ran starts at 0-0 with everything behind', async () => {
    const entry = await h.addResult(success('never-ran'), `${Date.now() - 90_000}-0`);
    const run = await runOps(h, status);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.result).toMatchObject({
      offset: { lastEntryId: '0-0', updatedAt: undefined, pendingRetries: [] },
      lease: { held: false },
      stream: { length: 1, entriesBehind: 1, oldestBehindId: entry, offsetAheadOfStream: false },
      deadLetters: { count: 0 },
      lastInvocation: undefined,
    });
    expect(run.result?.stream.oldestBehindAgeMs).toBeGreaterThanOrEqual(90_000);
    expect(run.stdout).toContain('Offset');
    expect(run.stdout).toMatch(/entries behind\s+1/);
    expect(run.stdout).toMatch(/oldest behind\s+\S+ \(1m 3\ds old\)/);
    expect(run.stdout).toContain('(none recorded)');
  });

  it('status: after an invocation, shows the new offset, the last invocation and the dead letters', async () => {
    await h.putGame({ gameId: 'st-1', status: 'starting' });
    await h.addResult(success('st-1'));
    const invalid = await h.addResult({ game_id: '', outcome: 'success' });
    const summary = await h.invoke();
    expect(summary).toMatchObject({ stoppedBy: 'drained', invalid: 1 });

    const run = await runOps(h, status, { json: true });
    expect(run.code).toBe(ExitCode.ok);
    const report = JSON.parse(run.stdout) as Record<string, Record<string, unknown>>;
    expect(report.offset?.lastEntryId).toBe(invalid);
    expect(report.stream).toMatchObject({ length: 3, entriesBehind: 0, lastGeneratedId: invalid });
    // The invalid entry, and the first test's result for a game that does not exist.
    expect(report.deadLetters).toMatchObject({ key: h.streams.deadLetters, count: 2 });
    expect(report.lastInvocation).toMatchObject({
      stoppedBy: 'drained',
      lastEntryId: invalid,
      entriesRead: 3,
      invalid: 1,
      deadLettered: 1,
    });
    expect(typeof report.lastInvocation?.at).toBe('string');
  });

  it('status: shows a lease held by a running invocation and the entries behind', async () => {
    const entry = await h.addResult(success('st-behind'));
    const store = new DynamoDbOffsetStore(h.documents, h.offsetsTable, testBounds('DynamoDB'));
    const now = Date.now();
    await store.acquireLease('request-123', now + 60_000, now);
    try {
      const run = await runOps(h, status);
      expect(run.result?.lease).toMatchObject({ held: true, owner: 'request-123' });
      expect(run.result?.stream).toMatchObject({ entriesBehind: 1, oldestBehindId: entry });
      expect(run.stdout).toMatch(/held by\s+request-123/);
    } finally {
      await store.releaseLease('request-123');
    }
  });

  it('status: warns when the offset is past the end of the stream', async () => {
    const before = await h.offsetItem();
    await putOffset(h, { ...before, lastEntryId: '99999999999999-0' });
    try {
      const run = await runOps(h, status);
      expect(run.result?.stream.offsetAheadOfStream).toBe(true);
      expect(run.stderr).toContain('past the end');
      expect(run.stdout).toMatch(/offset ahead of stream\s+YES/);
    } finally {
      await putOffset(h, { ...before });
    }
  });

  it('offset show: the offset, whether its entry is still there, entries behind', async () => {
    const run = await runOps(h, offsetShow, { json: true });
    expect(run.code).toBe(ExitCode.ok);
    const offset = String((await h.offsetItem())?.lastEntryId);
    expect(JSON.parse(run.stdout)).toMatchObject({
      lastEntryId: offset,
      inStream: true,
      entriesBehind: 1,
      pendingRetries: 0,
    });
  });

  it('game show: the record, binding, last transition and pending intent', async () => {
    h.gameMaster.setBehaviour('st-paused', { kind: 'fail', status: 503 });
    await h.putGame({ gameId: 'st-paused', status: 'starting', lobbyOwned: 'kept' });
    // Intent publishing fails once (a pipeline error), so the outbox is left in the item.
    const entry = await h.addResult(success('st-paused'));
    await h.redis.exec(['SET', h.streams.notificationIntents, 'not a stream']);
    await h.invoke();
    await h.redis.exec(['DEL', h.streams.notificationIntents]);

    const run = await runOps(h, (ctx) => gameShow(ctx, 'st-paused'));
    expect(run.code).toBe(ExitCode.ok);
    expect(run.result).toMatchObject({
      status: 'paused',
      runtimeBinding: { containerId: 'container-st-paused', runtimeJobId: entry },
      lastTransition: { from: 'starting', to: 'paused', trigger: 'runtime_event', sourceEntryId: entry },
      pendingIntent: { sourceEntryId: entry, idempotencyKey: `lobby.runtime_paused_after_start:${entry}` },
      item: { lobbyOwned: 'kept' },
    });
    expect(run.stdout).toMatch(/status\s+paused/);
    expect(run.stdout).toContain('Pending intent (unpublished)');
    expect(run.stdout).toContain(`lobby.runtime_paused_after_start:${entry}`);
  });

  it('game show: a game that does not exist exits 5 and says where it looked', async () => {
    const run = await runOps(h, (ctx) => gameShow(ctx, 'no-such-game'), { json: true });
    expect(run.code).toBe(ExitCode.notFound);
    expect(run.stderr).toContain(`is not in table ${h.gamesTable}`);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: 'not_found', exitCode: 5 } });
  });

  it('a table that does not exist is an operational error that names it', async () => {
    const run = await runOps({ ...h, env: { ...h.env, OFFSETS_TABLE: 'no-such-offsets' } }, status);
    expect(run.code).toBe(ExitCode.operational);
    expect(run.stderr).toContain('"no-such-offsets" does not exist');
  });

  it('a missing variable is a usage error that names it', async () => {
    const { GM_BASE_URL: _, ...env } = h.env;
    const run = await runOps({ ...h, env }, status);
    expect(run.code).toBe(ExitCode.usage);
    expect(run.stderr).toContain('GM_BASE_URL is required');
  });
});
