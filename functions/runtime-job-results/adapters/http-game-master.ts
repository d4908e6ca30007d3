import { truncateText } from '../domain/text.js';
import { GameMasterAuthError, GameMasterUnavailableError } from '../errors.js';
import type { GameMaster, RegisterGameRequest } from '../ports.js';
import type { InvocationDeadline } from './invocation-deadline.js';
import { KeepAliveHttp } from './keep-alive-http.js';
import type { HttpAnswer } from './keep-alive-http.js';
import { RequestTimeoutError } from './request-watch.js';

export interface HttpGameMasterOptions {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly token: string | undefined;
  /** Cuts a call still waiting when the invocation's deadline is near. */
  readonly deadline?: InvocationDeadline;
}

/** Longest part of a Game Master answer carried into an error (and so into a log line). */
const MAX_BODY_IN_ERROR = 256;

/** Connecting is part of the call's `GM_TIMEOUT_MS`; this only stops a connection attempt from outliving it. */
const CONNECTION_TIMEOUT_MS = 1_000;

/**
 * Idle connections are closed after 4 s (as `fetch` does by default), before a server's
 * usual idle timeout, so a call rarely meets a connection the server has already dropped:
 * a call that fails pauses its game.
 */
const IDLE_TIMEOUT_MS = 4_000;

/**
 * Registers a started runtime with Game Master: `PUT /internal/v1/games/{id}/runtime`.
 * Any 2xx is success. A 401 means our token is wrong, for every game: {@link GameMasterAuthError},
 * which stops the invocation. Anything else (a 403 too: Game Master refusing this one game;
 * a redirect, which is never followed since it would carry the token elsewhere), a timeout
 * or a network error is "Game Master unavailable" for this game, which pauses it.
 * One call per started game puts it on the hot path: it uses `node:http(s)` over
 * keep-alive connections of its own (`KeepAliveHttp`) rather than `fetch`, whose web
 * streams cost about three times the CPU per call (docs/performance.md).
 */
export class HttpGameMaster implements GameMaster {
  readonly #options: HttpGameMasterOptions;
  readonly #basePath: string;
  readonly #http: KeepAliveHttp;

  constructor(options: HttpGameMasterOptions) {
    this.#options = options;
    const base = new URL(options.baseUrl);
    this.#basePath = base.pathname.replace(/\/$/, '');
    this.#http = new KeepAliveHttp(base, {
      connectionTimeoutMs: Math.min(CONNECTION_TIMEOUT_MS, options.timeoutMs),
      idleTimeoutMs: IDLE_TIMEOUT_MS,
      deadline: options.deadline,
    });
  }

  async registerRuntime(request: RegisterGameRequest): Promise<void> {
    const path = `${this.#basePath}/internal/v1/games/${encodeURIComponent(request.gameId)}/runtime`;
    const body = JSON.stringify({
      game_id: request.gameId,
      container_id: request.containerId,
      engine_endpoint: request.engineEndpoint,
      target_engine_version: request.targetEngineVersion,
      turn_schedule: request.turnSchedule,
    });
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      'Idempotency-Key': request.idempotencyKey,
    };
    if (this.#options.token !== undefined) headers.Authorization = `Bearer ${this.#options.token}`;

    const deadline = this.#options.deadline;
    let answer: HttpAnswer;
    try {
      const timeout = (what: string): Error => new RequestTimeoutError(what);
      answer = await this.#http.send({ method: 'PUT', path, headers, body }, this.#options.timeoutMs, timeout);
    } catch (error) {
      if (deadline?.signal.aborted) throw deadline.explain(error, 'Game Master');
      const reason =
        error instanceof RequestTimeoutError ? error.message : `request failed: ${describeRequestError(error)}`;
      throw new GameMasterUnavailableError(`Game Master unavailable: ${reason}`, undefined, { cause: error });
    }
    if (answer.status >= 200 && answer.status < 300) return;
    if (answer.status === 401) throw new GameMasterAuthError(answer.status);
    throw new GameMasterUnavailableError(
      `${unavailable(answer.status, request.gameId)}: HTTP ${answer.status} ${truncateText(this.#redacted(answer.text), MAX_BODY_IN_ERROR)}`.trim(),
      answer.status,
    );
  }

  /** An answer may echo the request's headers: our token must not reach a log line through it. */
  #redacted(text: string): string {
    const token = this.#options.token;
    return token === undefined || token === '' ? text : text.replaceAll(token, '[redacted]');
  }
}

/** How a non-2xx answer other than 401 reads in the error (and the log line). */
const unavailable = (status: number, gameId: string): string => {
  if (status === 403) return `Game Master refused game ${gameId}`;
  if (status >= 300 && status < 400) return 'Game Master unavailable (redirect not followed)';
  return 'Game Master unavailable';
};

const describeRequestError = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
};
