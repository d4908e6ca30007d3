/**
 * Message losses the crash soak found, each reproduced exactly against the real stack, and
 * now fixed: the start-flow claim (orphan stop job after a crash), writes that recognise
 * their own applied retry (paused intent, lease), and an intent that cannot be published
 * kept in its game's outbox when it is given up. Entries too large to publish or read are in
 * big-entries.test.ts. docs/reliability.md has the story.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { forward } from '../../local/dynamodb-proxy.js';
import type { DynamoDbCall, ProxyAction } from '../../local/dynamodb-proxy.js';
import { leaseExpiry, spawnInvocation } from '../../local/child-invocation.js';
import {
  appliedButAnswerLost,
  cancelBeforeBinding,
  isLeaseAcquire,
  isStatusWrite,
  once,
  successFields,
} from './support/hooks.js';

let h: Harness;

afterEach(async () => {
  await h.cleanup();
});

describe('an orphan stop job survives the invocation dying before publishing it', () => {
  // The binding write loses its condition (Lobby cancelled the game) and the process dies
  // before the stop job is out. Without a record the replay would read a game that is not
  // `starting` and ignore the entry, leaving the container running with no stop job. The
  // success flow's read now claims the game (`startFlowClaim`) before binding; the replay
  // finds this entry's claim without its binding and publishes the stop job.
  it('publishes the stop job on the replay after a crash right after the failed binding write', async () => {
    h = await createHarness();
    await h.putGame({ gameId: 'orphan', status: 'starting' });
    const entryId = await h.addResult(successFields('orphan'));
    const child = spawnInvocation({ ...h.env, TIME_BUDGET_MARGIN_MS: '0' }, 3_000);
    const cancel = cancelBeforeBinding(h, 'orphan');
    h.proxy.setHook(async (call) => {
      const action = await cancel(call);
      if (action.kind !== 'forward' || action.before === undefined) return action;
      // The binding write reaches DynamoDB (and fails its condition); the process dies
      // before it hears back.
      return { ...action, after: async () => void child.process.kill('SIGKILL') };
    });
    expect((await child.ended).signal).toBe('SIGKILL');
    h.proxy.setHook(undefined);
    expect(await h.getGame('orphan')).toMatchObject({ status: 'cancelled' });
    await sleep(leaseExpiry(await h.offsetItem()));

    expect(await h.invoke()).toMatchObject({ stoppedBy: 'drained', lastEntryId: entryId });
    expect((await h.read(h.streams.stopJobs)).map((m) => m.fields.source_entry_id)).toEqual([entryId]);
  });
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

describe('the orphan path clears its start claim once the stop job is out', () => {
  // README: the claim is "removed by its status change or once its orphan stop job is out".
  // Found here: markers were cleared only for entries with messages in the batch publish, and
  // the orphan's stop job is published on its own, so every orphaned game kept its claim (and
  // a replay of the entry sent the stop job again).
  it('removes the claim once the stop job is out', async () => {
    h = await createHarness();
    await h.putGame({ gameId: 'claimed', status: 'starting' });
    const entryId = await h.addResult(successFields('claimed'));
    h.proxy.setHook(cancelBeforeBinding(h, 'claimed'));
    expect(await h.invoke()).toMatchObject({ applied: 1, stoppedBy: 'drained', lastEntryId: entryId });
    expect((await h.read(h.streams.stopJobs)).map((m) => m.fields.source_entry_id)).toEqual([entryId]);
    expect(await h.getGame('claimed')).not.toHaveProperty('startFlowClaim');
  });
});
