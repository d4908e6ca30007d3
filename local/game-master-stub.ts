import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LOOPBACK } from './free-port.js';
import { seededRandom } from './seeded-random.js';
import { closeHttpServer, listenOnLoopback } from './listen.js';

/** How the stub answers a runtime registration. */
export type GameMasterBehaviour =
  | { kind: 'ok' }
  | { kind: 'fail'; status?: number }
  | { kind: 'slow'; delayMs: number }
  | { kind: 'hang' };

/** Options of {@link startGameMasterStub}. */
export interface GameMasterStubOptions {
  /** Port to listen on (127.0.0.1 only); omitted or 0 picks a free one. */
  port?: number;
  /** Delay added before every answer, to make the stub behave like a remote service. */
  defaultDelayMs?: number;
  /**
   * Fraction (0..1) of calls answered 500 although no behaviour was set for their game.
   * Which calls fail is drawn from a PRNG seeded with `seed`, so a run is reproducible.
   */
  failureRate?: number;
  /** Seed of the failure draw; 1 by default. */
  seed?: number;
  /** When set, requests without `Authorization: Bearer <expectedToken>` get 401. */
  expectedToken?: string;
}

/** One request the stub received. */
export interface RecordedCall {
  method: string;
  path: string;
  /** The `{gameId}` of `/internal/v1/games/{gameId}/runtime`, undefined for other paths. */
  gameId: string | undefined;
  /** Request headers, names lower-cased, repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The parsed JSON body, or the raw text when it is not JSON (undefined when empty). */
  body: unknown;
  /** Status answered; null while the request is pending (slow) or hanging. */
  status: number | null;
  /** When the request arrived. */
  at: Date;
}

/** A running Game Master stub. */
export interface GameMasterStub {
  /** e.g. `http://127.0.0.1:41234`, without a trailing slash. */
  baseUrl: string;
  port: number;
  /** Every request received so far, oldest first (copies: later answers do not change them). */
  calls(): RecordedCall[];
  /** The requests for one game's runtime endpoint. */
  callsFor(gameId: string): RecordedCall[];
  /** Sets how calls for `gameId` are answered, overriding the default and the failure rate. */
  setBehaviour(gameId: string, behaviour: GameMasterBehaviour): void;
  /** Sets how calls for games without their own behaviour are answered. */
  setDefaultBehaviour(behaviour: GameMasterBehaviour): void;
  /** Forgets calls and behaviours and restarts the failure draw from its seed. */
  reset(): void;
  /** Stops the server, ending hanging and slow requests so it never waits for them. */
  close(): Promise<void>;
}

const RUNTIME_PATH = /^\/internal\/v1\/games\/([^/]+)\/runtime$/;

/**
 * Starts an in-process HTTP stub of the Game Master's internal runtime registration API
 * (`PUT /internal/v1/games/{gameId}/runtime`), recording every call and answering as told.
 */
export async function startGameMasterStub(options: GameMasterStubOptions = {}): Promise<GameMasterStub> {
  const failureRate = options.failureRate ?? 0;
  if (!(failureRate >= 0 && failureRate <= 1)) {
    throw new Error(`failureRate must be between 0 and 1, got ${failureRate}`);
  }
  const seed = options.seed ?? 1;
  let random = seededRandom(seed);
  let recorded: RecordedCall[] = [];
  let behaviours = new Map<string, GameMasterBehaviour>();
  let defaultBehaviour: GameMasterBehaviour = { kind: 'ok' };
  // Responses not yet ended (slow or hanging) and their timers, so close() can end them.
  const pending = new Map<ServerResponse, NodeJS.Timeout | undefined>();

  const behaviourFor = (gameId: string): GameMasterBehaviour => {
    const own = behaviours.get(gameId);
    if (own !== undefined) {
      return own;
    }
    // Draw for every unconfigured call, so the pattern depends only on the call sequence.
    if (failureRate > 0 && random() < failureRate) {
      return { kind: 'fail', status: 500 };
    }
    return defaultBehaviour;
  };

  const answer = (call: RecordedCall, res: ServerResponse, status: number, body: object, delayMs: number): void => {
    const finish = (): void => {
      pending.delete(res);
      call.status = status;
      const payload = JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) });
      res.end(payload);
    };
    if (delayMs <= 0) {
      finish();
      return;
    }
    pending.set(res, setTimeout(finish, delayMs));
  };

  const handle = (req: IncomingMessage, res: ServerResponse, rawBody: string): void => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const match = RUNTIME_PATH.exec(path);
    const gameId = match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
    const call: RecordedCall = {
      method: req.method ?? '',
      path,
      gameId,
      headers: lowerCaseHeaders(req),
      body: parseBody(rawBody),
      status: null,
      at: new Date(),
    };
    recorded.push(call);
    const delay = options.defaultDelayMs ?? 0;
    if (gameId === undefined) {
      answer(call, res, 404, { error: `no route for ${path}` }, delay);
      return;
    }
    if (call.method !== 'PUT') {
      answer(call, res, 405, { error: `method ${call.method} not allowed: use PUT` }, delay);
      return;
    }
    if (options.expectedToken !== undefined && call.headers.authorization !== `Bearer ${options.expectedToken}`) {
      answer(call, res, 401, { error: 'missing or wrong bearer token' }, delay);
      return;
    }
    if (!call.headers['idempotency-key']) {
      answer(call, res, 400, { error: 'missing Idempotency-Key header' }, delay);
      return;
    }
    if (typeof call.body !== 'object' || call.body === null || Array.isArray(call.body)) {
      answer(call, res, 400, { error: 'body must be a JSON object' }, delay);
      return;
    }
    const behaviour = behaviourFor(gameId);
    switch (behaviour.kind) {
      case 'ok':
        answer(call, res, 200, {}, delay);
        return;
      case 'fail':
        answer(call, res, behaviour.status ?? 500, { error: 'simulated Game Master failure' }, delay);
        return;
      case 'slow':
        answer(call, res, 200, {}, delay + behaviour.delayMs);
        return;
      case 'hang':
        pending.set(res, undefined);
        return;
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  const port = await listenOnLoopback(server, options.port);
  let closed: Promise<void> | undefined;

  return {
    baseUrl: `http://${LOOPBACK}:${port}`,
    port,
    calls: () => recorded.map((call) => ({ ...call, headers: { ...call.headers } })),
    callsFor: (gameId) =>
      recorded.filter((call) => call.gameId === gameId).map((call) => ({ ...call, headers: { ...call.headers } })),
    setBehaviour: (gameId, behaviour) => {
      behaviours.set(gameId, behaviour);
    },
    setDefaultBehaviour: (behaviour) => {
      defaultBehaviour = behaviour;
    },
    reset: () => {
      recorded = [];
      behaviours = new Map();
      defaultBehaviour = { kind: 'ok' };
      random = seededRandom(seed);
    },
    close: async () => {
      if (closed === undefined) {
        // End slow and hanging answers first, so nothing is left for close() to wait on.
        for (const [res, timer] of pending) {
          clearTimeout(timer);
          res.destroy();
        }
        pending.clear();
        closed = closeHttpServer(server);
      }
      return closed;
    },
  };
}

function lowerCaseHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  return headers;
}

function parseBody(raw: string): unknown {
  if (raw === '') {
    return undefined;
  }
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}
