/**
 * The Game Master adapter over real HTTP: what it sends, and how each kind of answer (2xx,
 * 4xx/5xx, 401, 403, a redirect, no answer, no server) becomes success or a named error; and that a warm
 * adapter reuses its connection instead of opening one per call.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DeadlineReachedError,
  GameMasterAuthError,
  GameMasterUnavailableError,
} from '../../functions/runtime-job-results/errors.js';
import { InvocationDeadline } from '../../functions/runtime-job-results/adapters/invocation-deadline.js';
import { HttpGameMaster } from '../../functions/runtime-job-results/adapters/http-game-master.js';
import type { RegisterGameRequest } from '../../functions/runtime-job-results/ports.js';
import { closeHttpServer, listenOnLoopback } from '../../local/listen.js';
import { testBounds } from '../support/bounds.js';

const request: RegisterGameRequest = {
  gameId: 'game/1',
  containerId: 'container-1',
  engineEndpoint: 'http://engine-1:8080',
  targetEngineVersion: '1.9.0',
  turnSchedule: '0 */6 * * *',
  idempotencyKey: '1700000000000-0',
};

interface Seen {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  readonly socket: Socket;
}

let server: Server;
let baseUrl: string;
let seen: Seen[] = [];
let answer: (res: ServerResponse) => void = (res) => res.end();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body, socket: req.socket });
      answer(res);
    });
  });
  baseUrl = `http://127.0.0.1:${await listenOnLoopback(server)}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await closeHttpServer(server);
});

beforeEach(() => {
  seen = [];
  answer = (res) => res.writeHead(204).end();
});

const gameMaster = (options: { token?: string; timeoutMs?: number; url?: string } = {}): HttpGameMaster =>
  new HttpGameMaster({
    baseUrl: options.url ?? baseUrl,
    token: options.token,
    bounds: testBounds('Game Master', options.timeoutMs ?? 2_000),
  });

describe('HttpGameMaster', () => {
  it('PUTs the registration with its idempotency key and token, and takes a 2xx as success', async () => {
    await gameMaster({ token: 'secret-token' }).registerRuntime(request);
    expect(seen).toHaveLength(1);
    const [call] = seen;
    expect(call?.method).toBe('PUT');
    expect(call?.url).toBe('/internal/v1/games/game%2F1/runtime');
    expect(call?.headers['idempotency-key']).toBe(request.idempotencyKey);
    expect(call?.headers.authorization).toBe('Bearer secret-token');
    expect(call?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(call?.body ?? '')).toEqual({
      game_id: 'game/1',
      container_id: 'container-1',
      engine_endpoint: 'http://engine-1:8080',
      target_engine_version: '1.9.0',
      turn_schedule: '0 */6 * * *',
    });
  });

  it('sends no Authorization header without a token', async () => {
    await gameMaster().registerRuntime(request);
    expect(seen[0]?.headers.authorization).toBeUndefined();
  });

  it('reuses its connections across calls instead of opening one per call', async () => {
    const adapter = gameMaster();
    for (let call = 0; call < 10; call += 1) await adapter.registerRuntime(request);
    expect(seen).toHaveLength(10);
    // fetch's pool may open a second connection while the first one's answer is being read.
    expect(new Set(seen.map((call) => call.socket)).size).toBeLessThanOrEqual(2);
  });

  it('turns a 5xx into GameMasterUnavailableError with the status and the body, token redacted', async () => {
    answer = (res) => res.writeHead(503).end('down for maintenance; token was secret-token');
    const error = await gameMaster({ token: 'secret-token' })
      .registerRuntime(request)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GameMasterUnavailableError);
    expect((error as GameMasterUnavailableError).status).toBe(503);
    expect((error as Error).message).toBe(
      'Game Master unavailable: HTTP 503 down for maintenance; token was [redacted]',
    );
  });

  it('turns 401 into GameMasterAuthError', async () => {
    answer = (res) => res.writeHead(401).end();
    await expect(gameMaster().registerRuntime(request)).rejects.toBeInstanceOf(GameMasterAuthError);
  });

  it('turns 403 into GameMasterUnavailableError naming the refused game (it pauses that game only)', async () => {
    answer = (res) => res.writeHead(403).end('not this one');
    const error = await gameMaster()
      .registerRuntime(request)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GameMasterUnavailableError);
    expect((error as GameMasterUnavailableError).status).toBe(403);
    expect((error as Error).message).toBe(`Game Master refused game ${request.gameId}: HTTP 403 not this one`);
  });

  it('does not follow a redirect', async () => {
    answer = (res) => res.writeHead(307, { Location: 'http://127.0.0.1:1/elsewhere' }).end();
    const error = await gameMaster()
      .registerRuntime(request)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GameMasterUnavailableError);
    expect((error as Error).message).toBe('Game Master unavailable (redirect not followed): HTTP 307');
  });

  it('names the timeout when Game Master does not answer in time', async () => {
    answer = () => undefined; // never answers
    const error = await gameMaster({ timeoutMs: 200 })
      .registerRuntime(request)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GameMasterUnavailableError);
    expect((error as Error).message).toBe('Game Master unavailable: no answer within 200 ms');
  });

  it('reads at most 64 KiB of an answer, whatever its size, then ends the request', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    let written = 0;
    let closed = false;
    answer = (res) => {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.on('close', () => {
        closed = true;
      });
      // 160 MB if anyone read it all; a reader that stops lets the socket close long before.
      const pump = (): void => {
        while (!closed && written < 160 && res.write(chunk)) written += 1;
        if (!closed && written < 160) res.once('drain', pump);
        else res.end();
      };
      pump();
    };
    const error = await gameMaster()
      .registerRuntime(request)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GameMasterUnavailableError);
    expect((error as GameMasterUnavailableError).status).toBe(500);
    expect(Buffer.byteLength((error as Error).message)).toBeLessThan(400);
    await vi.waitFor(() => expect(closed).toBe(true));
    expect(written).toBeLessThan(160);
  });

  it("counts each call's timeout from when it is sent: 100 calls at once, each answered in 600 ms, all succeed", async () => {
    answer = (res) => {
      setTimeout(() => res.writeHead(204).end(), 600);
    };
    const adapter = gameMaster({ timeoutMs: 1_000 });
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, (_, i) => adapter.registerRuntime({ ...request, gameId: `g-${i}` })),
    );
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
  });

  it("names Game Master when the invocation's deadline cuts the call", async () => {
    answer = () => undefined; // never answers
    const deadline = new InvocationDeadline();
    deadline.start(400);
    const adapter = new HttpGameMaster({ baseUrl, token: undefined, bounds: deadline.bounds('Game Master', 5_000) });
    const error = await adapter.registerRuntime(request).catch((caught: unknown) => caught);
    deadline.end();
    expect(error).toBeInstanceOf(DeadlineReachedError);
    expect((error as Error).message).toContain('Game Master');
  });

  it('names a connection failure', async () => {
    const closed = createServer();
    const port = await listenOnLoopback(closed);
    await closeHttpServer(closed);
    const error = await gameMaster({ url: `http://127.0.0.1:${port}` })
      .registerRuntime(request)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GameMasterUnavailableError);
    expect((error as Error).message).toMatch(/^Game Master unavailable: request failed: .*ECONNREFUSED/);
  });
});
