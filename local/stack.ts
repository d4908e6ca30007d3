import { randomUUID } from 'node:crypto';
import { startDynamoDbLocal } from './dynamodb-local.js';
import type { DynamoDbLocalProcess } from './dynamodb-local.js';
import { startGameMasterStub } from './game-master-stub.js';
import type { GameMasterStub, GameMasterStubOptions } from './game-master-stub.js';
import { onShutdownSignal } from './process-lifecycle.js';
import { startRedisServer } from './redis-server.js';
import type { RedisServerProcess } from './redis-server.js';
import { startUpstashServer } from './upstash-server.js';
import type { UpstashServer } from './upstash-server.js';

/** Options of {@link startLocalStack}. */
export interface LocalStackOptions {
  gameMaster?: GameMasterStubOptions;
  /** Bearer token of the Upstash-compatible server; a random UUID by default. */
  upstashToken?: string;
}

/** Everything the consumer talks to, running locally. */
export interface LocalStack {
  /** The redis-server behind the REST server (for direct inspection; the consumer uses `upstash`). */
  redis: { host: string; port: number; password: string; pid: number };
  upstash: { url: string; token: string; server: UpstashServer };
  dynamodb: { endpoint: string; pid: number };
  gameMaster: GameMasterStub;
  /** Stops every part; resolves once all child processes are gone. Safe to call more than once. */
  stop(): Promise<void>;
}

/** A started part with the name used in errors and a way to stop it. */
interface Part {
  name: string;
  stop: () => Promise<void>;
}

/**
 * Starts redis-server, the Upstash-compatible REST server in front of it, DynamoDB Local and
 * the Game Master stub, each on a free port of 127.0.0.1, in parallel where they do not depend
 * on each other (only the REST server waits for redis).
 *
 * Everything started is stopped by `stop()`, on SIGINT/SIGTERM/SIGHUP (then the process exits
 * 130/143/129), and — child processes — when this process exits in any way, SIGKILL included
 * (see process-lifecycle.ts). If a part fails to start, the parts already up are stopped and
 * the error names the part that failed.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const token = options.upstashToken ?? randomUUID();
  const started: Part[] = [];
  const stopStarted = async (): Promise<void> => {
    // Reverse order: the REST server goes before the redis it forwards to.
    const parts = started.splice(0).reverse();
    await Promise.allSettled(parts.map(async (part) => part.stop()));
  };
  const unregister = onShutdownSignal(stopStarted);

  const start = async <T>(name: string, run: () => Promise<T>, stop: (value: T) => Promise<void>): Promise<T> => {
    try {
      const value = await run();
      started.push({ name, stop: async () => stop(value) });
      return value;
    } catch (error) {
      throw new Error(`local stack: ${name} failed to start: ${(error as Error).message}`, { cause: error });
    }
  };

  const redisAndUpstash = (async () => {
    const redis = await start(
      'redis-server',
      async () => startRedisServer(),
      async (r: RedisServerProcess) => r.stop(),
    );
    const upstash = await start(
      'Upstash REST server',
      async () =>
        startUpstashServer({ redisPort: redis.port, redisHost: redis.host, redisPassword: redis.password, token }),
      async (server: UpstashServer) => server.close(),
    );
    return { redis, upstash };
  })();
  const results = await Promise.allSettled([
    redisAndUpstash,
    start(
      'DynamoDB Local',
      async () => startDynamoDbLocal(),
      async (d: DynamoDbLocalProcess) => d.stop(),
    ),
    start(
      'Game Master stub',
      async () => startGameMasterStub(options.gameMaster),
      async (gm: GameMasterStub) => gm.close(),
    ),
  ]);
  const [first, dynamoResult, gmResult] = results;
  if (first.status === 'rejected' || dynamoResult.status === 'rejected' || gmResult.status === 'rejected') {
    await stopStarted();
    unregister();
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as Error] : []));
    if (failures.length === 1 && failures[0] !== undefined) {
      throw failures[0];
    }
    throw new AggregateError(failures, failures.map((failure) => failure.message).join('\n'));
  }
  const { redis, upstash } = first.value;
  let stopped: Promise<void> | undefined;
  return {
    redis: { host: redis.host, port: redis.port, password: redis.password, pid: redis.pid },
    upstash: { url: upstash.url, token, server: upstash },
    dynamodb: { endpoint: dynamoResult.value.endpoint, pid: dynamoResult.value.pid },
    gameMaster: gmResult.value,
    stop: async () => {
      stopped ??= stopStarted().finally(unregister);
      return stopped;
    },
  };
}
