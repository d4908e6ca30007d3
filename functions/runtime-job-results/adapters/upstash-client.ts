import { Redis } from '@upstash/redis';
import type { Requester } from '@upstash/redis';
import { withJitter } from '../backoff.js';
import { DeadlineReachedError, UpstashHttpError } from '../errors.js';
import { truncateText } from '../domain/text.js';
import { requestSignal } from './request-signal.js';

export interface UpstashClientOptions {
  readonly url: string;
  readonly token: string;
  /** Per-request timeout: a request has none of its own and would wait forever. */
  readonly timeoutMs: number;
  /**
   * The invocation's deadline (`InvocationDeadline`): read at each request, since every
   * invocation arms a new signal, and every request is cut when it aborts.
   */
  readonly deadline?: { readonly signal: AbortSignal };
}

type UpstashRequest = Parameters<Requester['request']>[0];
type UpstashResponse = Awaited<ReturnType<Requester['request']>>;

/** Retries of a request that got no answer at all (a reset, a refused connection). */
const RETRIES = 2;
/** Nominal waits before those retries, jittered: 50 ms × e^n, as the official client's default. */
const retryBackoffMs = (retry: number): number => withJitter(Math.exp(retry) * 50);
/** Longest part of a body that is not JSON carried into an error. */
const MAX_BODY_IN_ERROR = 200;

/**
 * The HTTP transport under the official Upstash client: the REST protocol as the client's
 * own does it (JSON bodies, base64 replies, the read-your-writes token), except that an
 * answer other than 2xx becomes an {@link UpstashHttpError} carrying the HTTP status. The
 * official transport folds the status into a message that also echoes the command, so a
 * wrong token could only be told apart from bad entry data by reading text; with the
 * status, it is told apart by a number.
 */
class UpstashTransport implements Requester {
  readYourWrites = true;
  upstashSyncToken = '';
  readonly #options: UpstashClientOptions;

  constructor(options: UpstashClientOptions) {
    this.#options = options;
  }

  async request<TResult = unknown>(req: UpstashRequest): Promise<UpstashResponse & { result?: TResult }> {
    const url = [this.#options.url.replace(/\/$/, ''), ...(req.path ?? [])].join('/');
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      Authorization: `Bearer ${this.#options.token}`,
      'Upstash-Encoding': 'base64',
      ...(this.readYourWrites ? { 'upstash-sync-token': this.upstashSyncToken } : {}),
      ...req.headers,
    };
    const body = JSON.stringify(req.body);
    for (let attempt = 0; ; attempt += 1) {
      const deadline = this.#options.deadline?.signal;
      const { signal, done } = requestSignal(this.#options.timeoutMs, deadline);
      try {
        const response = await fetch(url, { method: 'POST', headers, body, keepalive: true, signal });
        return this.#answer<TResult>(response, await response.text());
      } catch (error) {
        if (deadline?.aborted) throw new DeadlineReachedError('Upstash', { cause: error });
        // An answer, a timeout: retrying would not change it, or only wait again.
        if (error instanceof UpstashHttpError || signal.aborted || attempt >= RETRIES) throw error;
      } finally {
        done();
      }
      await new Promise((resolve) => setTimeout(resolve, retryBackoffMs(attempt)));
    }
  }

  #answer<TResult>(response: Response, raw: string): UpstashResponse & { result?: TResult } {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (error) {
      throw new UpstashHttpError(
        response.status,
        `Unable to parse response body: ${truncateText(raw, MAX_BODY_IN_ERROR)}`,
        { cause: error },
      );
    }
    if (!response.ok) throw new UpstashHttpError(response.status, serverError(parsed));
    if (this.readYourWrites) this.upstashSyncToken = response.headers.get('upstash-sync-token') ?? '';
    if (Array.isArray(parsed)) {
      return parsed.map((item: { result?: unknown; error?: string }) => ({
        result: decode(item.result),
        error: item.error,
      })) as unknown as UpstashResponse & { result?: TResult };
    }
    const single = (parsed ?? {}) as { result?: unknown; error?: string };
    return { result: decode(single.result) as TResult, error: single.error };
  }
}

const serverError = (body: unknown): string =>
  typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'string'
    ? body.error
    : 'no error text';

/** Base64 strings at any depth back to text, as the official transport decodes them. */
const decode = (value: unknown): unknown => {
  if (typeof value === 'string') return value === 'OK' ? value : fromBase64(value);
  if (Array.isArray(value)) return value.map(decodeNested);
  return value;
};

const decodeNested = (value: unknown): unknown => {
  if (typeof value === 'string') return fromBase64(value);
  if (Array.isArray(value)) return value.map(decodeNested);
  return value;
};

const fromBase64 = (text: string): string => Buffer.from(text, 'base64').toString('utf8');

/**
 * The official client over that transport, set up for this consumer: values come back as
 * the raw strings Redis holds (no implicit `JSON.parse`, which turns `"0123"` into `123`),
 * every request has a timeout, and a failed `fetch` is retried twice rather than five times
 * so one unreachable endpoint cannot eat the invocation's time budget.
 */
class RawRedis extends Redis {
  constructor(transport: Requester) {
    super(transport);
    // A client built on a transport takes no options; these are the ones it would take.
    this.opts = { automaticDeserialization: false };
  }
}

export const createUpstashClient = (options: UpstashClientOptions): Redis =>
  new RawRedis(new UpstashTransport(options));
