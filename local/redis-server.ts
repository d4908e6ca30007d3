import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  /** The password every client must give (`AUTH`); random per server. */
  password: string;
  /** Pid of the redis-server process (also its process group id). */
  pid: number;
  /** Stops redis-server; resolves once the process is gone. */
  stop(): Promise<void>;
}

const DEFAULT_START_TIMEOUT_MS = 10_000;

/**
 * Sends one inline PING (after `AUTH password`, when given) and resolves to whether `+PONG`
 * came back.
 *
 * A raw socket instead of a client library: it is the cheapest possible probe and cannot be
 * confused by a client's own reconnect logic while the server is still starting.
 */
export async function pingRedis(host: string, port: number, password?: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let reply = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => {
      if (password !== undefined) socket.write(`AUTH ${password}\r\n`);
      socket.write('PING\r\n');
    });
    const expectedLines = password === undefined ? 1 : 2;
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      const lines = reply.split('\r\n');
      if (lines.length > expectedLines) {
        finish(lines[expectedLines - 1]?.startsWith('+PONG') === true);
      }
    });
  });
}

/**
 * Starts a throw-away `redis-server` bound to 127.0.0.1 with persistence off, protected mode
 * on and a random password: another user of the machine, or a web page making requests to
 * loopback, cannot read or write it.
 *
 * Each stack gets its own server on its own port so that tests never touch a redis the
 * developer runs for something else.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerProcess> {
  const binary = requireExecutable('redis-server', 'redis-server');
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const password = randomBytes(24).toString('hex');
  // The password goes in a file only this user can read, not on the command line, which every
  // user of the machine can see; redis-server reads it at start and the file goes right after.
  const configDir = await mkdtemp(join(tmpdir(), 'galaxy-redis-'));
  const configFile = join(configDir, 'redis.conf');
  await writeFile(configFile, `requirepass ${password}\n`, { mode: 0o600 });
  try {
    return await withFreePort(options.port, async (port) => {
      const managed = spawnManaged({
        name: 'redis-server',
        command: binary,
        args: [
          configFile,
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
          'yes',
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
        isReady: async () => pingRedis(LOOPBACK, port, password),
      });
      return { host: LOOPBACK, port, password, pid: managed.pid, stop: async () => managed.stop() };
    });
  } finally {
    await rm(configDir, { recursive: true, force: true });
  }
}
