import { setTimeout as sleep } from 'node:timers/promises';

/** Options of {@link waitUntil}. */
export interface WaitOptions {
  /** What is being waited for, used in the timeout error ("redis-server on port 1234 to answer PING"). */
  description: string;
  /** Give up after this long. */
  timeoutMs: number;
  /** Pause between two checks. */
  intervalMs?: number;
  /**
   * Called before every check; returning an Error stops the wait at once with that error.
   * Lets a caller fail fast when, say, the child it waits for has already exited.
   */
  abortIf?: () => Error | undefined;
}

/**
 * Polls `check` until it resolves to true.
 *
 * A check that throws counts as "not yet": services refuse connections while they start,
 * and those refusals are exactly what we wait out.
 */
export async function waitUntil(check: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const intervalMs = options.intervalMs ?? 50;
  let lastError: unknown;
  for (;;) {
    const abort = options.abortIf?.();
    if (abort !== undefined) {
      throw abort;
    }
    try {
      if (await check()) {
        return;
      }
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.description}${cause}`);
    }
    await sleep(intervalMs);
  }
}
