import { Redis } from '@upstash/redis';
import { withJitter } from '../backoff.js';
import type { RequestBounds } from './invocation-deadline.js';

export interface UpstashClientOptions {
  readonly url: string;
  readonly token: string;
  /** `UPSTASH_TIMEOUT_MS` and the invocation's deadline: the official client has no timeout of its own. */
  readonly bounds: RequestBounds;
}

/** Retries of a request that got no answer at all (a reset, a refused connection). */
const RETRIES = 2;

/**
 * The official Upstash client, set up for this consumer through its own options: values come
 * back as the raw strings Redis holds (no implicit `JSON.parse`, which turns `"0123"` into
 * `123`); every request carries one signal, its timeout and the invocation's deadline (the
 * client evaluates `signal` once per request, its retries included, and does not retry an
 * aborted one); and a failed `fetch` is retried twice, after 50 ms × e^n jittered (the
 * client's own schedule), rather than five times, so one unreachable endpoint cannot eat the
 * invocation's time budget.
 */
export const createUpstashClient = (options: UpstashClientOptions): Redis =>
  new Redis({
    url: options.url,
    token: options.token,
    automaticDeserialization: false,
    enableTelemetry: false,
    signal: () => options.bounds.signal(),
    retry: { retries: RETRIES, backoff: (retry) => withJitter(Math.exp(retry) * 50) },
  });
