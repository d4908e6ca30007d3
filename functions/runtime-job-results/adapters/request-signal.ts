/**
 * The abort signal of one request: its own timeout, or the invocation's deadline, whichever
 * comes first.
 *
 * Built by hand rather than with `AbortSignal.any([AbortSignal.timeout(ms), deadline])`: in
 * Node 20 the combined signal holds its sources weakly, and a timeout signal nothing else
 * holds can be garbage-collected before it fires, leaving the request with no timeout at
 * all (seen here: a Game Master call hanging until the deadline instead of for 1 s).
 */
export interface RequestSignal {
  readonly signal: AbortSignal;
  /** Stops the timer and the deadline listener; call once the answer is read. */
  done(): void;
}

export const requestSignal = (timeoutMs: number, deadline: AbortSignal | undefined): RequestSignal => {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')),
    timeoutMs,
  );
  const onDeadline = (): void => controller.abort(deadline?.reason);
  if (deadline?.aborted) onDeadline();
  else deadline?.addEventListener('abort', onDeadline, { once: true });
  return {
    signal: controller.signal,
    done: () => {
      clearTimeout(timer);
      deadline?.removeEventListener('abort', onDeadline);
    },
  };
};
