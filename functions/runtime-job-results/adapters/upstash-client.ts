import { Redis } from '@upstash/redis';

export interface UpstashClientOptions {
  readonly url: string;
  readonly token: string;
  /** Per-request timeout: the client has none of its own and would wait forever. */
  readonly timeoutMs: number;
}

/**
 * The official Upstash client, set up for this consumer: values come back as the raw strings
 * Redis holds (no implicit `JSON.parse`, which turns `"0123"` into `123`), every request
 * has a timeout, and a failed `fetch` is retried twice rather than five times so one
 * unreachable endpoint cannot eat the invocation's time budget.
 */
export const createUpstashClient = (options: UpstashClientOptions): Redis =>
  new Redis({
    url: options.url,
    token: options.token,
    automaticDeserialization: false,
    enableTelemetry: false,
    keepAlive: true,
    signal: () => AbortSignal.timeout(options.timeoutMs),
    retry: { retries: 2, backoff: (retryCount) => Math.exp(retryCount) * 50 },
  });
