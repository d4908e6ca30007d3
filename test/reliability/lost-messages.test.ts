/**
 * Message losses the crash soak found, each reproduced exactly against the real stack, and
 * now fixed: writes that recognise their own applied retry (paused intent, lease), an intent
 * that cannot be published kept in its game's outbox when it is given up, and the stop job a
 * start claim of an earlier release still owes. Lobby's cancel against the binding write, with
 * kills around it, is in cancel-orderings.test.ts; entries too large to publish or read are in
 * big-entries.test.ts. docs/reliability.md has the story.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { forward } from '../../local/dynamodb-proxy.js';
import type { DynamoDbCall, ProxyAction } from '../../local/dynamodb-proxy.js';
import { appliedButAnswerLost, isLeaseAcquire, isStatusWrite, once, successFields } from './support/hooks.js';

let h: Harness;

afterEach(async () => {
  await h.cleanup();
});

describe('a paused write applied but answered with an error still gets its intent out', () => {
  // DynamoDB applies `starting → paused` (with the outbox), the answer is lost (a 5xx or a
  // reset), the SDK retries the same conditional write, which then fails its condition.
  // Read as "moved on", the intent would stay in the outbox unpublished; the store now
  // recognises its own applied write (same status, same source entry) as success.
  it('publishes the intent when the paused write succeeded but its answer was lost', async () => {
    h = await createHarness();
    await h.putGame({ gameId: 'paused', status: 'starting' });
    h.gameMaster.setBehaviour('paused', { kind: 'fail', status: 503 });
    const entryId = await h.addResult(successFields('paused'));
    h.proxy.setHook(
      once<DynamoDbCall, ProxyAction>((call) => isStatusWrite(call, 'paused', 'paused'), appliedButAnswerLost, forward),
    );

    expect(await h.invoke()).toMatchObject({ stoppedBy: 'drained', lastEntryId: entryId });
    expect(await h.getGame('paused')).toMatchObject({ status: 'paused' });
    expect((await h.read(h.streams.notificationIntents)).map((m) => m.fields.idempotency_key)).toEqual([
      `lobby.runtime_paused_after_start:${entryId}`,
    ]);
  });
});

describe('a lease taken but answered with an error does not lock the consumer out', () => {
  // The lease `UpdateItem` is applied, its answer lost; the SDK's retry finds the lease held
  // by this very invocation, which must count as taken, not as lease_held.
  it('an invocation whose lease write was applied but not answered still runs', async () => {
    h = await createHarness();
    await h.putGame({ gameId: 'locked', status: 'starting' });
    const entryId = await h.addResult({ game_id: 'locked', outcome: 'failure' });
    h.proxy.setHook(once<DynamoDbCall, ProxyAction>(isLeaseAcquire, appliedButAnswerLost, forward));

    expect(await h.invoke()).toMatchObject({
      stoppedBy: 'drained',
      lastEntryId: entryId,
    });
  });
});

describe('an intent given up after MAX_ATTEMPTS stays in the game outbox', () => {
  // The notification stream key holds another type: the paused intent can never be
  // published while Upstash takes other writes. After MAX_ATTEMPTS the entry is let go, the
  // PublishAbandoned alarm's metric is counted, and the intent stays in the game item
  // (`pendingIntent`), where `npm run ops -- replay` resends it (docs/runbook.md).
  it('keeps the intent in pendingIntent and counts publish_abandoned', async () => {
    h = await createHarness({ MAX_ATTEMPTS: '2' });
    await h.putGame({ gameId: 'unheard', status: 'starting' });
    h.gameMaster.setBehaviour('unheard', { kind: 'fail', status: 503 });
    const entryId = await h.addResult(successFields('unheard'));
    await h.redis.exec(['SET', h.streams.notificationIntents, 'not a stream']);
    const metrics: Record<string, number>[] = [];
    const invoke = () => h.invoke({ handler: { onMetrics: (m) => metrics.push(m) } });

    expect(await invoke()).toMatchObject({ stoppedBy: 'transient_error' });
    expect(await invoke()).toMatchObject({ applied: 1, stoppedBy: 'drained', lastEntryId: entryId });
    expect(metrics[1]).toMatchObject({ 'lobby.start_flow.publish_abandoned|': 1 });
    expect(await h.getGame('unheard')).toMatchObject({
      status: 'paused',
      pendingIntent: { sourceEntryId: entryId, idempotencyKey: `lobby.runtime_paused_after_start:${entryId}` },
    });
  });
});

describe("an earlier release's start claim still gets its stop job after a deploy", () => {
  // That release read the game with a claim (`startFlowClaim`) before its binding write. A
  // flow it left between the two, with the game cancelled meanwhile, owes its stop job: the
  // replay finds this entry's claim without this entry's binding, publishes the stop job and
  // removes the claim.
  it('publishes the stop job once and removes the claim', async () => {
    h = await createHarness();
    await h.putGame({ gameId: 'claimed', status: 'starting' });
    const entryId = await h.addResult(successFields('claimed'));
    await h.putGame({
      gameId: 'claimed',
      status: 'cancelled',
      startFlowClaim: { sourceEntryId: entryId, claimedAt: '2026-11-30T12:00:00.000Z' },
    });
    expect(await h.invoke()).toMatchObject({ applied: 1, stoppedBy: 'drained', lastEntryId: entryId });
    expect((await h.read(h.streams.stopJobs)).map((m) => m.fields.source_entry_id)).toEqual([entryId]);
    expect(await h.getGame('claimed')).not.toHaveProperty('startFlowClaim');
    expect(await h.getGame('claimed')).toMatchObject({ status: 'cancelled' });
  });

  it('lets a claim with its own binding be: the game was bound, Lobby owns it now', async () => {
    h = await createHarness();
    await h.putGame({ gameId: 'claimed-bound', status: 'starting' });
    const entryId = await h.addResult(successFields('claimed-bound'));
    await h.putGame({
      gameId: 'claimed-bound',
      status: 'cancelled',
      startFlowClaim: { sourceEntryId: entryId, claimedAt: '2026-11-30T12:00:00.000Z' },
      runtimeBinding: { containerId: 'c', engineEndpoint: 'http://e', runtimeJobId: entryId, boundAt: 'then' },
    });
    expect(await h.invoke()).toMatchObject({ ignored: 1, stoppedBy: 'drained', lastEntryId: entryId });
    expect(await h.read(h.streams.stopJobs)).toEqual([]);
  });
});
