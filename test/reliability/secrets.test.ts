/**
 * No secret and no unbounded upstream text in the logs, on the error paths too.
 * test/integration/telemetry.test.ts covers the happy path with DEBUG logging; these are
 * the paths where an upstream's own error text reaches a log line.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closeHttpServer, listenOnLoopback } from '../../local/listen.js';
import { throttled } from '../../local/dynamodb-proxy.js';
import { startUpstashProxy } from '../../local/upstash-proxy.js';
import type { UpstashProxy } from '../../local/upstash-proxy.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { testStack } from '../support/stack.js';
import { captureLogs } from './support/capture-logs.js';
import { successFields } from './support/hooks.js';

const GM_TOKEN = 'gm-token-0f3a9c-never-log-me';

let h: Harness;
let upstash: UpstashProxy;
/** A Game Master that answers 500 with whatever `body` returns for the request. */
let echoGameMaster: Server;
let echoUrl: string;
let echoBody: (authorization: string) => string = () => '';

beforeAll(async () => {
  upstash = await startUpstashProxy(testStack().upstashUrl);
  h = await createHarness({
    UPSTASH_REDIS_REST_URL: upstash.url,
    POWERTOOLS_LOG_LEVEL: 'DEBUG',
    GM_API_TOKEN: GM_TOKEN,
  });
  echoGameMaster = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(echoBody(String(request.headers.authorization ?? '')));
    });
  });
  echoUrl = `http://127.0.0.1:${await listenOnLoopback(echoGameMaster)}`;
});
afterAll(async () => {
  await h.cleanup();
  await upstash.close();
  await closeHttpServer(echoGameMaster);
});
beforeEach(() => {
  upstash.setHook(undefined);
  h.proxy.setHook(undefined);
});

let n = 0;
const pausedGame = async (): Promise<string> => {
  n += 1;
  const gameId = `secret-${n}`;
  await h.putGame({ gameId, status: 'starting' });
  await h.addResult(successFields(gameId));
  return gameId;
};

describe('secrets and upstream error texts in logs', () => {
  it('no token in any log line when DynamoDB, Upstash and Game Master all fail at DEBUG level', async () => {
    await pausedGame();
    await h.addResult({ game_id: 'bad id', outcome: 'failure' });
    // 503, not 401: a refused token is fatal and would hold the entry for the next test.
    h.gameMaster.setDefaultBehaviour({ kind: 'fail', status: 503 });
    let throttles = 0;
    h.proxy.setHook((call) => (call.tableName === h.gamesTable && throttles++ < 4 ? throttled : { kind: 'forward' }));
    upstash.setHook((call) =>
      call.names.includes('XADD')
        ? { kind: 'respond', status: 500, body: '{"error":"ERR boom"}' }
        : { kind: 'forward' },
    );
    const first = await captureLogs(() => h.invoke({ env: {} }));
    upstash.setHook(undefined);
    const second = await captureLogs(() => h.invoke({ env: {} }));
    const wrongToken = await captureLogs(() =>
      h.invoke({ env: { UPSTASH_REDIS_REST_TOKEN: 'another-databases-token-77' } }),
    );
    h.gameMaster.setDefaultBehaviour({ kind: 'ok' });

    const text = first.raw + second.raw + wrongToken.raw;
    // The error paths were walked: a throttled write, a failed publish, a refused token.
    expect(text).toContain('transient error processing runtime job result');
    expect(text).toContain('publishing the batch failed');
    expect(text).toContain('WRONGPASS');
    for (const secret of [GM_TOKEN, h.env.UPSTASH_REDIS_REST_TOKEN as string, 'another-databases-token-77']) {
      expect(text).not.toContain(secret);
    }
  });

  it('a long Game Master error body is cut to 256 bytes in the log line', async () => {
    const gameId = await pausedGame();
    echoBody = () => JSON.stringify({ error: 'x'.repeat(100_000) });
    const run = await captureLogs(() => h.invoke({ env: { GM_BASE_URL: echoUrl } }));
    const line = run.logs.find((log) => log.message === 'gm registration failed; pause-after-start path');
    expect(line).toMatchObject({ game_id: gameId });
    expect(String(line?.err).length).toBeLessThan(400);
    expect(String(line?.err)).toContain('…[truncated]');
  });

  // Found here and fixed: the Game Master body was cut but not scrubbed, so a Game Master (or
  // a proxy in front of it) echoing the request headers put our bearer token into the
  // warning line. HttpGameMaster now removes the token from any answer it quotes.
  it('the Game Master token stays out of the log when Game Master echoes it back', async () => {
    await pausedGame();
    echoBody = (authorization) => JSON.stringify({ error: 'unauthorized', received: { authorization } });
    const run = await captureLogs(() => h.invoke({ env: { GM_BASE_URL: echoUrl } }));
    expect(run.logs.some((log) => log.message === 'gm registration failed; pause-after-start path')).toBe(true);
    expect(run.raw).not.toContain(GM_TOKEN);
  });

  // Found here and fixed: the Upstash client puts the whole request body into its error text
  // ("…, command was: [[…]]"), and the publish warning logged it uncut — every field of every
  // message of the batch in one line of any size. Every error text is now cut to 1 KiB.
  it('a failed publish logs at most about 1 KiB of the upstream error', async () => {
    await h.addResult({ game_id: 'bad id', outcome: 'failure', error_message: 'p'.repeat(50_000) });
    upstash.setHook((call) =>
      call.names.includes('XADD')
        ? { kind: 'respond', status: 500, body: '{"error":"ERR busy"}' }
        : { kind: 'forward' },
    );
    const run = await captureLogs(() => h.invoke({ env: {} }));
    upstash.setHook(undefined);
    await h.invoke({ env: {} });
    const warning = run.logs.find((log) => String(log.message).startsWith('publishing the batch failed'));
    expect(warning).toBeDefined();
    expect(String(warning?.err).length).toBeLessThan(2_048);
  });
});
