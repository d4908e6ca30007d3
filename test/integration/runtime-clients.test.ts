import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRuntime } from '../../functions/runtime-job-results/runtime.js';
import type { Runtime } from '../../functions/runtime-job-results/runtime.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';

/*
 * The games store's client caches its resolved middleware per command class; the document
 * client must not (its commands' handlers are bound to their first instance). Both must
 * send every request with that request's own input.
 */
let h: Harness;
let runtime: Runtime;

beforeAll(async () => {
  h = await createHarness();
  runtime = await buildRuntime(h.env);
});
afterAll(async () => {
  await h.cleanup();
});

describe("the runtime's DynamoDB clients send each request as it was built", () => {
  it('the games store claims each game with its own entry, request after request', async () => {
    const gameIds = ['c1', 'c2', 'c3'];
    for (const gameId of gameIds) await h.putGame({ gameId, status: 'starting' });
    for (const [index, gameId] of gameIds.entries()) {
      const at = `2026-11-30T12:00:0${index}.000Z`;
      const claim = await runtime.games.claimForStart(gameId, `${index + 1}-0`, at);
      expect(claim).toMatchObject({ claimed: true, game: { gameId, status: 'starting' } });
      expect((await h.getGame(gameId))?.startFlowClaim).toEqual({ sourceEntryId: `${index + 1}-0`, claimedAt: at });
    }
    await runtime.games.saveRuntimeBinding(
      'c2',
      { containerId: 'k2', engineEndpoint: 'http://e2', runtimeJobId: 'j2', boundAt: 'b2' },
      'x',
    );
    expect((await h.getGame('c1'))?.runtimeBinding).toBeUndefined();
    expect((await h.getGame('c2'))?.runtimeBinding).toMatchObject({ containerId: 'k2' });
  });

  it('the document client writes each command its own item', async () => {
    for (const gameId of ['d1', 'd2', 'd3']) {
      await runtime.documents.send(
        new PutCommand({ TableName: h.gamesTable, Item: { gameId, status: `s-${gameId}` } }),
      );
    }
    for (const gameId of ['d1', 'd2', 'd3']) expect(await h.getGame(gameId)).toEqual({ gameId, status: `s-${gameId}` });
  });
});
