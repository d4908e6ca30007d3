import type { InvocationDeadline } from './invocation-deadline.js';

/** How often the watch looks for requests past their time: a timeout fires up to this late. */
const SWEEP_INTERVAL_MS = 100;

/**
 * A request that got no answer in its time. Named `TimeoutError` as the AWS SDK's HTTP
 * handler names its own, so the SDK's retry rules take it as transient.
 */
export class RequestTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/** One request under watch. */
export interface WatchedRequest {
  /** Why the watch destroyed the request (its timeout or the deadline's reason); `undefined` otherwise. */
  readonly reason: Error | undefined;
  /** Stops watching; call once the answer is read or the request failed. */
  end(): void;
}

interface Entry {
  /** Ends the request with `reason`: its client fails it with that error. */
  readonly cancel: (reason: Error) => void;
  readonly expiresAt: number;
  readonly timeoutError: () => Error;
  reason: Error | undefined;
}

/**
 * Bounds the hot path's HTTP requests by their timeout and by the invocation's deadline,
 * without a timer, an `AbortController` and abort listeners per request: those cost about a
 * third of a keep-alive request's CPU (docs/performance.md, "A lighter DynamoDB request").
 * One interval, running only while requests are in flight, cancels the ones past their
 * time; one listener per invocation's deadline cancels every request in flight when it
 * fires. A cancelled request fails with the watch's reason (`reason`), which the caller
 * reports instead of the socket error it sees.
 */
export class RequestWatch {
  readonly #deadline: InvocationDeadline | undefined;
  readonly #inFlight = new Set<Entry>();
  #sweeper: NodeJS.Timeout | undefined;
  #watchedSignal: AbortSignal | undefined;

  constructor(deadline: InvocationDeadline | undefined) {
    this.#deadline = deadline;
  }

  /** Watches a request until `end()`: `cancel`led with `timeoutError()` after `timeoutMs`, or at the deadline. */
  watch(cancel: (reason: Error) => void, timeoutMs: number, timeoutError: () => Error): WatchedRequest {
    const entry: Entry = { cancel, expiresAt: Date.now() + timeoutMs, timeoutError, reason: undefined };
    const signal = this.#deadline?.signal;
    if (signal?.aborted) {
      this.#destroy(entry, reasonOf(signal));
    } else {
      if (signal !== undefined && signal !== this.#watchedSignal) this.#listenTo(signal);
      this.#inFlight.add(entry);
      this.#sweeper ??= setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS).unref();
    }
    return {
      get reason() {
        return entry.reason;
      },
      end: () => {
        this.#inFlight.delete(entry);
      },
    };
  }

  /** Each invocation arms a new deadline signal: one listener on it serves every request of the invocation. */
  #listenTo(signal: AbortSignal): void {
    this.#watchedSignal = signal;
    signal.addEventListener(
      'abort',
      () => {
        for (const entry of this.#inFlight) this.#destroy(entry, reasonOf(signal));
      },
      { once: true },
    );
  }

  #sweep(): void {
    const now = Date.now();
    for (const entry of this.#inFlight) {
      if (now >= entry.expiresAt) this.#destroy(entry, entry.timeoutError());
    }
    if (this.#inFlight.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  #destroy(entry: Entry, reason: Error): void {
    this.#inFlight.delete(entry);
    entry.reason = reason;
    entry.cancel(reason);
  }
}

const reasonOf = (signal: AbortSignal): Error =>
  signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason ?? 'aborted'));
