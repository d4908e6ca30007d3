import type { Server } from 'node:http';
import { LOOPBACK } from './free-port.js';

/**
 * Binds an HTTP server to 127.0.0.1 on `port` (0 or omitted: a free one) and resolves to the
 * port actually bound, so in-process servers need no separate free-port lookup and no race.
 */
export async function listenOnLoopback(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('server is not listening on a TCP port');
  }
  return address.port;
}

/**
 * Stops listening and cuts every open connection, resolving once the server is closed.
 *
 * Plain `close()` waits for keep-alive sockets (the official Upstash client and fetch keep
 * them) and for requests still in progress, which can take seconds or forever.
 */
export async function closeHttpServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
