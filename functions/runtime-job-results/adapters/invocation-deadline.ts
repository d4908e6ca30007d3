import { setMaxListeners } from 'node:events';
import { DeadlineReachedError } from '../errors.js';

/** Requests are cut this long before the invocation's deadline (a quarter of a shorter invocation). */
const DEADLINE_RESERVE_MS = 1_000;

/**
 * Every request in flight listens to the deadline (16 lanes, their retries, the prefetch):
 * more than Node's default of 10 listeners is the design, not a leak, and each request
 * removes its listener when it ends.
 */
const sharedController = (): AbortController => {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
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

  /** `error` as a {@link DeadlineReachedError} naming `dependency` if the deadline cut it; as it is otherwise. */
  explain(error: unknown, dependency: string): unknown {
    return this.#controller.signal.aborted ? new DeadlineReachedError(dependency, { cause: error }) : error;
  }
}
