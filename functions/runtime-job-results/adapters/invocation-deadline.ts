import { setMaxListeners } from 'node:events';
import { DeadlineReachedError } from '../errors.js';

/** Requests are cut this long before the invocation's deadline (a quarter of a shorter invocation). */
const DEADLINE_RESERVE_MS = 1_000;

/**
 * Every request in flight listens to the deadline (16 lanes, their retries, the prefetch):
 * more than Node's default of 10 listeners is the design, not a leak, and each request's
 * signal lets go of it when the request ends.
 */
const sharedController = (): AbortController => {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
};

/**
 * The bounds of one dependency's requests: each request gets one signal that aborts after
 * the request's own timeout or at the invocation's deadline, whichever comes first.
 */
export interface RequestBounds {
  /** The request's own timeout, in ms. */
  readonly timeoutMs: number;
  /** A new signal for one request, to pass to its client (`fetch`'s `signal`, the SDK's `abortSignal`). */
  signal(): AbortSignal;
  /** `error` as a {@link DeadlineReachedError} naming the dependency if the deadline cut it; as it is otherwise. */
  explain(error: unknown): unknown;
}

/**
 * Node 20 holds the sources of `AbortSignal.any` weakly, and a timeout signal that nothing
 * else holds can be collected before it fires: the request would then have no timeout. The
 * combined signal keeps its timeout here for as long as the combined signal itself lives (a
 * client holds it while its request runs).
 */
const timeoutOf = new WeakMap<AbortSignal, AbortSignal>();

const boundedSignal = (timeoutMs: number, deadline: AbortSignal): AbortSignal => {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([timeout, deadline]);
  timeoutOf.set(signal, timeout);
  return signal;
};

/**
 * The current invocation's deadline, as an abort signal every network call of the function
 * listens to. Per-request timeouts bound one request; this bounds them all together: a
 * dependency that accepts connections and never answers cannot run the invocation into
 * Lambda's own timeout, where it would end with no log line saying why. Cut a little before
 * the deadline, the invocation still has time to log the cause and return its error.
 */
export class InvocationDeadline {
  #controller = sharedController();
  #timer: NodeJS.Timeout | undefined;

  /** Arms the deadline for an invocation that has `remainingMs` to live. */
  start(remainingMs: number): void {
    this.end();
    this.#controller = sharedController();
    const cutInMs = Math.max(0, remainingMs - Math.min(DEADLINE_RESERVE_MS, remainingMs / 4));
    const controller = this.#controller;
    this.#timer = setTimeout(() => controller.abort(new DeadlineReachedError('a dependency')), cutInMs);
    this.#timer.unref();
  }

  /** Disarms it once the invocation is over. */
  end(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Aborts when the deadline is near; never, outside an invocation (the operator CLI). */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The bounds of `dependency`'s requests, each with a timeout of `timeoutMs`. */
  bounds(dependency: string, timeoutMs: number): RequestBounds {
    return {
      timeoutMs,
      // Read at each request: every invocation arms a new deadline signal.
      signal: () => boundedSignal(timeoutMs, this.#controller.signal),
      explain: (error) =>
        this.#controller.signal.aborted ? new DeadlineReachedError(dependency, { cause: error }) : error,
    };
  }
}
