import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { forward } from '../../local/dynamodb-proxy.js';
import { buildRuntime } from '../../functions/runtime-job-results/runtime.js';
import type { Runtime } from '../../functions/runtime-job-results/runtime.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';

/*
 * The games store sends its writes through its own transport, the offsets store through
 * the SDK's document client: both must send every request with that request's own input,
 * against DynamoDB Local.
 */
let h: Harness;
let runtime: Runtime;

beforeAll(async () => {
  h = await createHarness();
  runtime = await buildRuntime(h.env);
});
afterEach(() => {
  h.proxy.setHook(undefined);
});
afterAll(async () => {
  await h.cleanup();
});

describe("the runtime's DynamoDB transport and client send each request as it was built", () => {
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

  it("the games table's writes go signed, without the SDK's user-agent and trace headers; the offsets table's keep them", async () => {
    const seen: { table: string | undefined; headers: IncomingHttpHeaders }[] = [];
    h.proxy.setHook((call) => {
      seen.push({ table: call.tableName, headers: call.headers });
      return forward;
    });
    await h.putGame({ gameId: 'u1', status: 'starting' });
    // What Lambda sets, so that the SDK's recursion detection adds its trace header.
    const lambdaEnv = {
      AWS_LAMBDA_FUNCTION_NAME: 'consumer',
      _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793',
    };
    Object.assign(process.env, lambdaEnv);
    try {
      await runtime.games.claimForStart('u1', '9-0', 'now');
      await runtime.offsets.acquireLease('owner-1', Date.now() + 60_000, Date.now());
    } finally {
      for (const name of Object.keys(lambdaEnv)) delete process.env[name];
    }
    const games = seen.filter((call) => call.table === h.gamesTable);
    const offsets = seen.filter((call) => call.table === h.offsetsTable);
    expect(games.length).toBeGreaterThan(0);
    expect(offsets.length).toBeGreaterThan(0);
    for (const { headers } of games) {
      expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 /);
      expect(headers).not.toHaveProperty('x-amz-user-agent');
      expect(headers).not.toHaveProperty('x-amzn-trace-id');
    }
    for (const { headers } of offsets) {
      expect(headers['x-amz-user-agent']).toMatch(/aws-sdk-js/);
      expect(headers['x-amzn-trace-id']).toBe(lambdaEnv._X_AMZN_TRACE_ID);
    }
  });
});
