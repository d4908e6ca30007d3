import { createServer } from 'node:net';

/** The address every local service binds to: nothing of the local stack is reachable from outside. */
export const LOOPBACK = '127.0.0.1';

/**
 * Thrown by a starter when its child could not bind the port it was given, so that
 * {@link withFreePort} knows the port was taken in the meantime and another one may work.
 */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

/**
 * Asks the kernel for a currently unused TCP port on the loopback interface.
 *
 * The port is released before it is returned, so another process may grab it before the
 * caller binds it; {@link withFreePort} retries for exactly that race.
 */
async function findFreePort(host: string = LOOPBACK): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`could not read the port the kernel assigned on ${host}`));
        return;
      }
      const { port } = address;
      server.close(() => resolve(port));
    });
  });
}

/** How many fresh ports {@link withFreePort} tries before giving up. */
const FREE_PORT_ATTEMPTS = 3;

/**
 * Runs `start` on the requested port, or on a free one when none (or 0) was requested.
 *
 * With a chosen-for-you port a {@link PortInUseError} means we lost the race between
 * {@link findFreePort} and the child binding it, so a new port is tried; with an explicit
 * port the caller asked for that one, so the error is passed on.
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
      return await start(await findFreePort());
    } catch (error) {
      if (!(error instanceof PortInUseError)) {
        throw error;
      }
      lastError = error;
    }
  }
  throw lastError;
}
