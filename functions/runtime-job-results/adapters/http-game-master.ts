import { truncateText } from '../domain/text.js';
import type { GameMaster, RegisterGameRequest } from '../ports.js';
import { GameMasterAuthError, GameMasterUnavailableError } from '../errors.js';
import type { InvocationDeadline } from './invocation-deadline.js';
import { requestSignal } from './request-signal.js';

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
 * Registers a started runtime with Game Master: `PUT /internal/v1/games/{id}/runtime`.
 * Node's `fetch` keeps connections alive across calls of a warm Lambda. Any 2xx is success.
 * A 401 means our token is wrong, for every game: {@link GameMasterAuthError}, which stops
 * the invocation. Anything else (a 403 too: Game Master refusing this one game), a timeout
 * or a network error is "Game Master unavailable" for this game, which pauses it.
 * A redirect is refused rather than followed: it would carry the token to another address.
 */
export class HttpGameMaster implements GameMaster {
  readonly #options: HttpGameMasterOptions;

  constructor(options: HttpGameMasterOptions) {
    this.#options = options;
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

    const { signal, done } = requestSignal(this.#options.timeoutMs, this.#options.deadline?.signal);
    try {
      await this.#send(url, headers, body, signal, request.gameId);
    } finally {
      done();
    }
  }

  async #send(
    url: string,
    headers: Record<string, string>,
    body: string,
    signal: AbortSignal,
    gameId: string,
  ): Promise<void> {
    let response: Response;
    try {
      response = await fetch(url, { method: 'PUT', headers, body, redirect: 'error', signal });
    } catch (error) {
      if (this.#options.deadline?.signal.aborted) throw this.#options.deadline.explain(error, 'Game Master');
      const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
      const reason = timedOut
        ? `no answer within ${this.#options.timeoutMs} ms`
        : `request failed: ${describeFetchError(error)}`;
      throw new GameMasterUnavailableError(`Game Master unavailable: ${reason}`, undefined, { cause: error });
    }
    // Read the body either way so the keep-alive connection can be reused.
    const answer = await response.text().catch(() => '');
    if (response.ok) return;
    if (response.status === 401) throw new GameMasterAuthError(response.status);
    const what = response.status === 403 ? `refused game ${gameId}` : 'unavailable';
    throw new GameMasterUnavailableError(
      `Game Master ${what}: HTTP ${response.status} ${truncateText(this.#redacted(answer), MAX_BODY_IN_ERROR)}`.trim(),
      response.status,
    );
  }

  /** An answer may echo the request's headers: our token must not reach a log line through it. */
  #redacted(text: string): string {
    const token = this.#options.token;
    return token === undefined || token === '' ? text : text.replaceAll(token, '[redacted]');
  }
}

const describeFetchError = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
};
