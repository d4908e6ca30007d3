/**
 * A TCP front for a dependency that can go silent: until `silence()` it passes bytes both
 * ways; after it, it still accepts connections and reads every request, but forwards
 * nothing and answers nothing — a dependency that accepts connections and never answers.
 */
import { createServer, connect } from 'node:net';
import type { Socket } from 'node:net';

export interface SilentFront {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** From now on, requests are read and never answered (open connections included). */
  silence(): void;
  close(): Promise<void>;
}

export const startSilentFront = async (target: URL): Promise<SilentFront> => {
  let silent = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (silent) {
      client.resume();
      return;
    }
    const upstream = connect({ host: target.hostname, port: Number(target.port) });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('data', (chunk: Buffer) => {
      if (!silent) upstream.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('silent front has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    silence: () => {
      silent = true;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
