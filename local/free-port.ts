import getPort from 'get-port';

/** The address every local service binds to: nothing of the local stack is reachable from outside. */
export const LOOPBACK = '127.0.0.1';

/**
 * Thrown by a starter when its child could not bind the port it was given, so that
 * {@link withFreePort} knows the port was taken in the meantime and another one may work.
 */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

/** How many fresh ports {@link withFreePort} tries before giving up. */
const FREE_PORT_ATTEMPTS = 3;

/**
 * Runs `start` on the requested port, or on a free one when none (or 0) was requested.
 *
 * The free port comes from `get-port`, which also keeps it from being handed out again in
 * this process for a while; another process may still take it before the child binds it.
 * With a chosen-for-you port a {@link PortInUseError} means we lost that race, so a new port
 * is tried; with an explicit port the caller asked for that one, so the error is passed on.
 */
export async function withFreePort<T>(
  requestedPort: number | undefined,
  start: (port: number) => Promise<T>,
): Promise<T> {
  if (requestedPort !== undefined && requestedPort !== 0) {
    return start(requestedPort);
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < FREE_PORT_ATTEMPTS; attempt += 1) {
    try {
      return await start(await getPort({ host: LOOPBACK }));
    } catch (error) {
      if (!(error instanceof PortInUseError)) {
        throw error;
      }
      lastError = error;
    }
  }
  throw lastError;
}
