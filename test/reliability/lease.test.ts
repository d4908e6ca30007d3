/**
 * The offset lease: one owner per invocation even when request ids repeat, an allowance for
 * clock skew before a lease counts as expired, and a lease lost mid-invocation (the fenced
 * commit) stopping the invocation without writing the offset.
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { LEASE_CLOCK_SKEW_MS } from '../../functions/runtime-job-results/adapters/dynamodb-offset-store.js';
import { createHandler } from '../../functions/runtime-job-results/create-handler.js';
import { LeaseLostError } from '../../functions/runtime-job-results/errors.js';
import { forward } from '../../local/dynamodb-proxy.js';
import { lambdaContext, scheduledEvent } from '../../scripts/support/lambda-context.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { captureLogs } from './support/capture-logs.js';
import { isStatusWrite, successFields } from './support/hooks.js';

let h: Harness;

afterEach(async () => {
  await h.cleanup();
});

const OFFSET_KEY = { consumer: 'runtime_results' };

describe('each invocation owns its lease alone', () => {
  it('a second invocation with the same request id finds the lease held', async () => {
    h = await createHarness();
    for (const id of ['same-1', 'same-2', 'same-3']) {
      await h.putGame({ gameId: id, status: 'starting' });
      await h.addResult(successFields(id));
    }
    // Lambda retries an async invocation with the same request id; a script may reuse one.
    const context: Context = { ...lambdaContext(30_000), awsRequestId: 'retried-request' };
    h.gameMaster.setDefaultBehaviour({ kind: 'slow', delayMs: 300 });
    const first = createHandler(h.env)(scheduledEvent(), context);
    // The second starts while the first holds the lease (it is inside its first registration).
    await expect.poll(() => h.gameMaster.calls().length, { timeout: 10_000 }).toBeGreaterThan(0);
    const second = await createHandler(h.env)(scheduledEvent(), context);
    expect(second).toMatchObject({ stoppedBy: 'lease_held', entriesRead: 0 });
    expect(await first).toMatchObject({ stoppedBy: 'drained', applied: 3 });
    for (const id of ['same-1', 'same-2', 'same-3']) expect(h.gameMaster.callsFor(id)).toHaveLength(1);
  });
});

describe('a lease is not taken within the clock-skew allowance after its expiry', () => {
  it(`a lease expired less than ${LEASE_CLOCK_SKEW_MS} ms ago by our clock is still held; after that it is taken`, async () => {
    h = await createHarness();
    await h.putGame({ gameId: 'skew', status: 'starting' });
    const entryId = await h.addResult({ game_id: 'skew', outcome: 'failure' });
    const expiresAt = Date.now();
    await h.documents.send(
      new PutCommand({
        TableName: h.offsetsTable,
        Item: { ...OFFSET_KEY, lastEntryId: '0-0', leaseOwner: 'other-host', leaseExpiresAt: expiresAt },
      }),
    );
    // The holder's clock may run behind ours: by our clock its lease has just expired.
    const justAfter = await h.invoke({ handler: { nowMs: () => expiresAt + LEASE_CLOCK_SKEW_MS / 2 } });
    expect(justAfter).toMatchObject({ stoppedBy: 'lease_held' });
    expect(await h.getGame('skew')).toMatchObject({ status: 'starting' });

    const wellAfter = await h.invoke({ handler: { nowMs: () => expiresAt + LEASE_CLOCK_SKEW_MS + 1 } });
    expect(wellAfter).toMatchObject({ stoppedBy: 'drained', lastEntryId: entryId });
  });
});

describe('a lease item this store did not write', () => {
  it.each([
    ['an expiry that is a string', { leaseOwner: 'someone', leaseExpiresAt: 'tomorrow' }],
    ['an owner without an expiry', { leaseOwner: 'someone' }],
    ['an owner that is not a string', { leaseOwner: 42, leaseExpiresAt: Date.now() + 3_600_000 }],
  ])('with %s is reported and replaced, not waited on', async (_label, lease) => {
    h = await createHarness({ POWERTOOLS_LOG_LEVEL: 'WARN' });
    await h.putGame({ gameId: 'malformed', status: 'starting' });
    const entryId = await h.addResult({ game_id: 'malformed', outcome: 'failure' });
    await h.documents.send(
      new PutCommand({ TableName: h.offsetsTable, Item: { ...OFFSET_KEY, lastEntryId: '0-0', ...lease } }),
    );
    const { result, logs } = await captureLogs(() => h.invoke());
    expect(result).toMatchObject({ applied: 1, lastEntryId: entryId, stoppedBy: 'drained' });
    expect(logs).toContainEqual(
      expect.objectContaining({ level: 'WARN', message: 'offset item held a malformed lease; replaced it' }),
    );
    expect(await h.offsetItem()).not.toHaveProperty('leaseOwner');
  });
});

describe('a lease lost mid-invocation', () => {
  it('stops the invocation at its fenced commit with LeaseLostError, without writing the offset', async () => {
    h = await createHarness({ BATCH_SIZE: '2', MAX_CONCURRENCY: '1' });
    const ids = ['lost-1', 'lost-2', 'lost-3', 'lost-4'];
    const entries: string[] = [];
    for (const id of ids) {
      await h.putGame({ gameId: id, status: 'starting' });
      entries.push(await h.addResult({ game_id: id, outcome: 'failure' }));
    }
    // While the first batch is applied, another invocation takes the lease over (as after
    // this one's lease expired on a stalled host).
    let stolen = false;
    h.proxy.setHook((call) =>
      isStatusWrite(call, 'lost-2') && !stolen
        ? {
            kind: 'forward',
            after: async () => {
              stolen = true;
              await h.documents.send(
                new UpdateCommand({
                  TableName: h.offsetsTable,
                  Key: OFFSET_KEY,
                  UpdateExpression: 'SET leaseOwner = :thief, leaseExpiresAt = :expires',
                  ExpressionAttributeValues: { ':thief': 'thief', ':expires': Date.now() + 60_000 },
                }),
              );
            },
          }
        : forward,
    );

    const failure = await h.invoke().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(LeaseLostError);
    expect(String(failure)).toMatch(/offset lease of .* was taken over; not writing the offset/);
    const offset = await h.offsetItem();
    // The offset is the thief's to move now; this invocation wrote nothing to it.
    expect(offset).not.toHaveProperty('lastEntryId');
    expect(offset).toMatchObject({ leaseOwner: 'thief' });
    // What it applied before the commit stays applied (a replay is absorbed by the CAS), and
    // it started nothing after.
    expect(await h.getGame('lost-1')).toMatchObject({ status: 'start_failed' });
    expect(await h.getGame('lost-2')).toMatchObject({ status: 'start_failed' });
    expect(await h.getGame('lost-3')).toMatchObject({ status: 'starting' });
    expect(await h.getGame('lost-4')).toMatchObject({ status: 'starting' });
  });
});
