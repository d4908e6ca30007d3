import { connect } from 'node:net';
import { LOOPBACK, withFreePort } from './free-port.js';
import { requireExecutable, spawnManaged, waitForStartup } from './process-lifecycle.js';

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** Port to listen on; omitted or 0 picks a free one. */
  port?: number;
  /** How long to wait for the first PING answer. */
  startTimeoutMs?: number;
}

/** A running `redis-server` child. */
export interface RedisServerProcess {
  host: typeof LOOPBACK;
  port: number;
  /** Pid of the redis-server process (also its process group id). */
  pid: number;
  /** Stops redis-server; resolves once the process is gone. */
  stop(): Promise<void>;
}

const DEFAULT_START_TIMEOUT_MS = 10_000;

/**
 * Sends one inline PING and resolves to whether `+PONG` came back.
 *
 * A raw socket instead of a client library: it is the cheapest possible probe and cannot be
 * confused by a client's own reconnect logic while the server is still starting.
 */
export async function pingRedis(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let reply = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) {
        finish(reply.startsWith('+PONG'));
      }
    });
  });
}

/**
 * Starts a throw-away `redis-server` bound to 127.0.0.1 with persistence off.
 *
 * Each stack gets its own server on its own port so that tests never touch a redis the
 * developer runs for something else.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerProcess> {
  const binary = requireExecutable('redis-server', 'redis-server');
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  return withFreePort(options.port, async (port) => {
    const managed = spawnManaged({
      name: 'redis-server',
      command: binary,
      args: [
        '--port',
        String(port),
        '--bind',
        LOOPBACK,
        // Nothing is ever written to disk: no RDB snapshots, no AOF, so no cwd litter either.
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'no',
        '--daemonize',
        'no',
        // No unix socket, no replication chatter: keep the logs down to real problems.
        '--loglevel',
        'warning',
      ],
    });
    await waitForStartup(managed, {
      port,
      description: `redis-server on port ${port} to answer PING`,
      timeoutMs,
      isReady: async () => pingRedis(LOOPBACK, port),
    });
    return { host: LOOPBACK, port, pid: managed.pid, stop: async () => managed.stop() };
  });
}
