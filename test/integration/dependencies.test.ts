import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { forward } from '../../local/dynamodb-proxy.js';
import { buildDependencies } from '../../functions/runtime-job-results/dependencies.js';
import type { Dependencies } from '../../functions/runtime-job-results/dependencies.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';

/*
 * Both tables are written through one SDK client (the games store with its commands, the
 * offsets store with the document client over it): every request goes with its own input,
 * signed by the SDK, against DynamoDB Local.
 */
let h: Harness;
let runtime: Dependencies;

beforeAll(async () => {
  h = await createHarness();
  runtime = await buildDependencies(h.env);
});
afterEach(() => {
  h.proxy.setHook(undefined);
});
afterAll(async () => {
  await h.cleanup();
});

describe("the dependencies' one DynamoDB client sends each request as it was built", () => {
  it('the games store binds each starting game with its own binding, request after request', async () => {
    const gameIds = ['c1', 'c2', 'c3'];
    for (const gameId of gameIds) await h.putGame({ gameId, status: 'starting' });
    for (const [index, gameId] of gameIds.entries()) {
      const at = `2026-11-30T12:00:0${index}.000Z`;
      const binding = {
        containerId: `k-${gameId}`,
        engineEndpoint: 'http://e',
        runtimeJobId: `${index + 1}-0`,
        boundAt: at,
      };
      const bound = await runtime.games.bindRuntime(gameId, binding, at);
      expect(bound).toMatchObject({ bound: true, game: { gameId, status: 'starting', runtimeBinding: binding } });
      expect((await h.getGame(gameId))?.runtimeBinding).toEqual(binding);
    }
  });

  it('the games store returns a game that is not starting as it is, unbound and unchanged', async () => {
    await h.putGame({ gameId: 'c4', status: 'cancelled', updatedAt: 'before' });
    const before = await h.getGame('c4');
    const binding = { containerId: 'k', engineEndpoint: 'http://e', runtimeJobId: '9-0', boundAt: 'now' };
    const result = await runtime.games.bindRuntime('c4', binding, 'now');
    expect(result).toMatchObject({ bound: false, game: { gameId: 'c4', status: 'cancelled' } });
    expect(await h.getGame('c4')).toEqual(before);
  });

  it('the document client writes each command its own item', async () => {
    for (const gameId of ['d1', 'd2', 'd3']) {
      await runtime.documents.send(
        new PutCommand({ TableName: h.gamesTable, Item: { gameId, status: `s-${gameId}` } }),
      );
    }
    for (const gameId of ['d1', 'd2', 'd3']) expect(await h.getGame(gameId)).toEqual({ gameId, status: `s-${gameId}` });
  });

  it("both tables' requests go through the SDK: signed, with its user agent and the trace header Lambda sets", async () => {
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
      await runtime.games.bindRuntime(
        'u1',
        { containerId: 'k', engineEndpoint: 'http://e', runtimeJobId: '9-0', boundAt: 'now' },
        'now',
      );
      await runtime.offsets.acquireLease('owner-1', Date.now() + 60_000, Date.now());
    } finally {
      for (const name of Object.keys(lambdaEnv)) delete process.env[name];
    }
    for (const table of [h.gamesTable, h.offsetsTable]) {
      const calls = seen.filter((call) => call.table === table);
      expect(calls.length, table).toBeGreaterThan(0);
      for (const { headers } of calls) {
        expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 /);
        expect(headers['x-amz-user-agent']).toMatch(/aws-sdk-js/);
        expect(headers['x-amzn-trace-id']).toBe(lambdaEnv._X_AMZN_TRACE_ID);
      }
    }
  });
});
