import http from 'node:http';
import https from 'node:https';
import { truncateText } from '../domain/text.js';
import { GameMasterAuthError, GameMasterUnavailableError } from '../errors.js';
import type { GameMaster, RegisterGameRequest } from '../ports.js';
import type { InvocationDeadline } from './invocation-deadline.js';
import { RequestTimeoutError, RequestWatch } from './request-watch.js';

export interface HttpGameMasterOptions {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly token: string | undefined;
  /** Cuts a call still waiting when the invocation's deadline is near. */
  readonly deadline?: InvocationDeadline;
}

/** Longest part of a Game Master answer carried into an error (and so into a log line). */
const MAX_BODY_IN_ERROR = 256;

/**
 * Idle connections are closed after 4 s (as `fetch` does by default), before a server's
 * usual idle timeout, so a call rarely meets a connection the server has already dropped.
 */
const KEEP_ALIVE = { keepAlive: true, timeout: 4_000 } as const;

interface Answer {
  readonly status: number;
  readonly text: string;
}

/**
 * Registers a started runtime with Game Master: `PUT /internal/v1/games/{id}/runtime`.
 * Any 2xx is success. A 401 means our token is wrong, for every game: {@link GameMasterAuthError},
 * which stops the invocation. Anything else (a 403 too: Game Master refusing this one game;
 * a redirect, which is never followed since it would carry the token elsewhere), a timeout
 * or a network error is "Game Master unavailable" for this game, which pauses it.
 * One call per started game puts it on the hot path: it uses `node:http(s)`
 * with a keep-alive agent of its own (connections reused across the calls of a warm
 * Lambda) rather than `fetch`, whose web streams cost about three times the CPU per call
 * (docs/performance.md).
 */
export class HttpGameMaster implements GameMaster {
  readonly #options: HttpGameMasterOptions;
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;
  readonly #watch: RequestWatch;

  constructor(options: HttpGameMasterOptions) {
    this.#options = options;
    this.#watch = new RequestWatch(options.deadline);
    const secure = new URL(options.baseUrl).protocol === 'https:';
    this.#agent = secure ? new https.Agent(KEEP_ALIVE) : new http.Agent(KEEP_ALIVE);
    this.#request = secure ? https.request : http.request;
  }

  async registerRuntime(request: RegisterGameRequest): Promise<void> {
    const url = `${this.#options.baseUrl}/internal/v1/games/${encodeURIComponent(request.gameId)}/runtime`;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Idempotency-Key': request.idempotencyKey,
    };
    if (this.#options.token !== undefined) headers.Authorization = `Bearer ${this.#options.token}`;
    const body = JSON.stringify({
      game_id: request.gameId,
      container_id: request.containerId,
      engine_endpoint: request.engineEndpoint,
      target_engine_version: request.targetEngineVersion,
      turn_schedule: request.turnSchedule,
    });

    const deadline = this.#options.deadline;
    let answer: Answer;
    try {
      answer = await this.#put(url, headers, body);
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

  /**
   * One PUT within the timeout and the invocation's deadline (watched without a timer per
   * call); the answer's body is read to the end either way, so the connection can be reused.
   */
  #put(url: string, headers: Record<string, string>, body: string): Promise<Answer> {
    const { timeoutMs } = this.#options;
    return new Promise((resolve, reject) => {
      const request = this.#request(
        url,
        { method: 'PUT', agent: this.#agent, headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            text += chunk;
          });
          response.on('end', () => {
            watched.end();
            resolve({ status: response.statusCode ?? 0, text });
          });
          response.on('error', fail);
        },
      );
      const watched = this.#watch.watch(
        request,
        timeoutMs,
        () => new RequestTimeoutError(`no answer within ${timeoutMs} ms`),
      );
      function fail(error: Error): void {
        watched.end();
        reject(watched.reason ?? error);
      }
      request.on('error', fail);
      request.end(body);
    });
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
