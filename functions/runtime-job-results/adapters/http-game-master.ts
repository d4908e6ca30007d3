import { truncateText } from '../domain/text.js';
import { GameMasterAuthError, GameMasterUnavailableError } from '../errors.js';
import type { GameMaster, RegisterGameRequest } from '../ports.js';
import type { RequestBounds } from './invocation-deadline.js';

export interface HttpGameMasterOptions {
  readonly baseUrl: string;
  readonly token: string | undefined;
  /** `GM_TIMEOUT_MS` and the invocation's deadline. */
  readonly bounds: RequestBounds;
}

/**
 * Most of an answer's body that is read: whatever Game Master sends, at most this much is
 * buffered, then the request is ended. An error body only ever reaches a log line, cut shorter.
 */
const MAX_ANSWER_BYTES = 64 * 1024;

/** Longest part of a Game Master answer carried into an error (and so into a log line). */
const MAX_BODY_IN_ERROR = 256;

/**
 * Registers a started runtime with Game Master: `PUT /internal/v1/games/{id}/runtime`, with
 * Node's `fetch`. Any 2xx is success. A 401 means our token is wrong, for every game:
 * {@link GameMasterAuthError}, which stops the invocation. Anything else (a 403 too: Game
 * Master refusing this one game; a redirect, which is never followed since it would carry
 * the token elsewhere), a timeout or a network error is "Game Master unavailable" for this
 * game, which pauses it.
 */
export class HttpGameMaster implements GameMaster {
  readonly #options: HttpGameMasterOptions;
  readonly #base: string;

  constructor(options: HttpGameMasterOptions) {
    this.#options = options;
    this.#base = options.baseUrl.replace(/\/+$/, '');
  }

  async registerRuntime(request: RegisterGameRequest): Promise<void> {
    const url = `${this.#base}/internal/v1/games/${encodeURIComponent(request.gameId)}/runtime`;
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

    const { bounds } = this.#options;
    let status: number;
    let text: string;
    try {
      const response = await fetch(url, { method: 'PUT', headers, body, redirect: 'manual', signal: bounds.signal() });
      status = response.status;
      text = await readCapped(response, MAX_ANSWER_BYTES);
    } catch (error) {
      const explained = bounds.explain(error);
      if (explained !== error) throw explained;
      throw new GameMasterUnavailableError(
        `Game Master unavailable: ${describeRequestError(error, bounds)}`,
        undefined,
        {
          cause: error,
        },
      );
    }
    if (status >= 200 && status < 300) return;
    if (status === 401) throw new GameMasterAuthError(status);
    throw new GameMasterUnavailableError(
      `${unavailable(status, request.gameId)}: HTTP ${status} ${truncateText(this.#redacted(text), MAX_BODY_IN_ERROR)}`.trim(),
      status,
    );
  }

  /** An answer may echo the request's headers: our token must not reach a log line through it. */
  #redacted(text: string): string {
    const token = this.#options.token;
    return token === undefined || token === '' ? text : text.replaceAll(token, '[redacted]');
  }
}

/**
 * The body's first `maxBytes` as text. A longer body is not read further: the stream is
 * cancelled, which ends the request (its connection is not reused). A shorter one is read to
 * its end, so its connection goes back to the pool.
 */
const readCapped = async (response: Response, maxBytes: number): Promise<string> => {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let kept = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = maxBytes - kept;
    chunks.push(value.byteLength > room ? value.subarray(0, room) : value);
    kept += Math.min(value.byteLength, room);
    if (kept >= maxBytes) {
      await reader.cancel();
      break;
    }
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
};

/** How a non-2xx answer other than 401 reads in the error (and the log line). */
const unavailable = (status: number, gameId: string): string => {
  if (status === 403) return `Game Master refused game ${gameId}`;
  if (status >= 300 && status < 400) return 'Game Master unavailable (redirect not followed)';
  return 'Game Master unavailable';
};

const describeRequestError = (error: unknown, bounds: RequestBounds): string => {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${bounds.timeoutMs} ms`;
  if (!(error instanceof Error)) return `request failed: ${String(error)}`;
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `request failed: ${error.message}${cause}`;
};
