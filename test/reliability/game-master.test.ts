/**
 * Game Master: a 403 for one game pauses that game and no other, while a 401 (our token is
 * wrong, for every game) still stops the invocation; the token never crosses the network
 * in clear and never follows a redirect.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/runtime-job-results/config.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { successFields } from './support/hooks.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.cleanup();
});

describe('a Game Master 403 for one game', () => {
  it('pauses that game with its intent and starts the others; the consumer does not stop', async () => {
    for (const id of ['gm-ok-1', 'gm-forbidden', 'gm-ok-2']) await h.putGame({ gameId: id, status: 'starting' });
    await h.addResult(successFields('gm-ok-1'));
    const forbidden = await h.addResult(successFields('gm-forbidden'));
    const last = await h.addResult(successFields('gm-ok-2'));
    h.gameMaster.setBehaviour('gm-forbidden', { kind: 'fail', status: 403 });

    expect(await h.invoke()).toMatchObject({ stoppedBy: 'drained', applied: 3, lastEntryId: last });
    expect(await h.getGame('gm-forbidden')).toMatchObject({ status: 'paused' });
    expect(await h.getGame('gm-ok-1')).toMatchObject({ status: 'running' });
    expect(await h.getGame('gm-ok-2')).toMatchObject({ status: 'running' });
    expect((await h.read(h.streams.notificationIntents)).map((m) => m.fields.idempotency_key)).toEqual([
      `lobby.runtime_paused_after_start:${forbidden}`,
    ]);
    // Registered once, not retried: the refusal is Game Master's answer for this game.
    expect(h.gameMaster.callsFor('gm-forbidden')).toHaveLength(1);
  });

  it('a 401 still stops the invocation, leaving the game starting', async () => {
    await h.putGame({ gameId: 'gm-401', status: 'starting' });
    await h.addResult(successFields('gm-401'));
    h.gameMaster.setBehaviour('gm-401', { kind: 'fail', status: 401 });
    await expect(h.invoke()).rejects.toThrow('Game Master refused the API token (HTTP 401)');
    expect(await h.getGame('gm-401')).toMatchObject({ status: 'starting' });
    h.gameMaster.setBehaviour('gm-401', { kind: 'ok' });
    expect(await h.invoke()).toMatchObject({ stoppedBy: 'drained' });
    expect(await h.getGame('gm-401')).toMatchObject({ status: 'running' });
  });
});

describe('a redirect from Game Master is not followed', () => {
  let redirecting: Server;
  let elsewhere: Server;
  const seenElsewhere: IncomingHttpHeaders[] = [];

  const listen = async (server: Server): Promise<string> => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return `http://127.0.0.1:${address.port}`;
  };

  beforeAll(async () => {
    elsewhere = createServer((request, response) => {
      seenElsewhere.push(request.headers);
      response.writeHead(204).end();
    });
    const target = await listen(elsewhere);
    redirecting = createServer((request, response) => {
      request.resume();
      response.writeHead(307, { Location: `${target}${request.url ?? '/'}` }).end();
    });
  });
  afterAll(async () => {
    redirecting.close();
    elsewhere.close();
  });

  it('pauses the game rather than sending the token to the redirect target', async () => {
    const url = await listen(redirecting);
    await h.putGame({ gameId: 'gm-redirect', status: 'starting' });
    const entryId = await h.addResult(successFields('gm-redirect'));
    const summary = await h.invoke({ env: { GM_BASE_URL: url, GM_API_TOKEN: 'gm-secret-token' } });
    expect(summary).toMatchObject({ stoppedBy: 'drained', lastEntryId: entryId });
    expect(seenElsewhere).toEqual([]);
    expect(await h.getGame('gm-redirect')).toMatchObject({ status: 'paused' });
  });
});

describe('the Game Master token never crosses the network in clear', () => {
  const env = {
    UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1',
    UPSTASH_REDIS_REST_TOKEN: 't',
    GAMES_TABLE: 'games',
    OFFSETS_TABLE: 'offsets',
    AWS_REGION: 'us-east-1',
  };

  it.each([
    ['http://gm.internal', 'GM_API_TOKEN', 'x'],
    ['http://10.0.0.7:8080', 'GM_API_TOKEN_SECRET_ARN', 'arn:aws:secretsmanager:us-east-1:1:secret:gm'],
  ])('refuses GM_BASE_URL=%s while %s is set', (url, variable, value) => {
    expect(() => loadConfig({ ...env, GM_BASE_URL: url, [variable]: value })).toThrow(
      /GM_BASE_URL must be an https:\/\/ URL while a Game Master token is configured/,
    );
  });

  it.each([
    ['https://gm.internal', 'x'],
    ['http://127.0.0.1:8080', 'x'],
    ['http://localhost:8080', 'x'],
    ['http://[::1]:8080', 'x'],
    ['http://gm.internal', undefined],
  ])('accepts GM_BASE_URL=%s (token %s)', (url, token) => {
    const config = loadConfig({ ...env, GM_BASE_URL: url, ...(token === undefined ? {} : { GM_API_TOKEN: token }) });
    expect(config.gameMaster.baseUrl).toBe(url);
  });
});
