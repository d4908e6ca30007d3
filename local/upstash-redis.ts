import { Redis } from 'ioredis';
import { encodeReply, envelope, unsupportedReason } from './upstash-protocol.js';
import type { JsonValue, RedisCommand, ReplyEnvelope } from './upstash-protocol.js';

/** What the REST server sends back: a status and a JSON body. */
export interface Answer {
  status: number;
  body: JsonValue;
}

/** A connection failure, as opposed to an error reply from redis; answered with 500. */
class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
}

/**
 * Opens the one connection every REST request shares.
 *
 * Settings chosen so that a redis outage turns into a quick 500 instead of a hanging request:
 * no offline queue (commands fail at once while disconnected), no per-request retries, short
 * connect and command timeouts. RESP2, because that is what Upstash answers with (ioredis 6
 * defaults to RESP3, whose maps and sets would change the reply shapes).
 */
export async function connectRedis(host: string, port: number, password?: string): Promise<Redis> {
  const redis = new Redis({
    host,
    port,
    ...(password === undefined ? {} : { password }),
    protocol: 2,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    commandTimeout: 10_000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
  });
  // Without a listener ioredis prints every failed reconnect attempt; the failure reaches
  // the HTTP client through the 500 answer instead.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new Error(`could not connect to redis at ${host}:${port}: ${(error as Error).message}`);
  }
  return redis;
}

/** Error replies from redis itself ("ERR …", "WRONGTYPE …") carry this name in ioredis. */
function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ReplyError';
}

function unavailable(redis: Redis, error: unknown): RedisUnavailableError {
  const { host, port } = redis.options;
  const reason = error instanceof Error ? error.message : String(error);
  return new RedisUnavailableError(
    `redis at ${String(host)}:${String(port)} is unavailable (${redis.status}): ${reason}`,
  );
}

/**
 * Sends the command name upper-cased: ioredis keys its reply transformers (HGETALL into an
 * object, …) and special cases (SELECT, QUIT, …) by lower-case name, and REST clients must
 * get redis's raw reply.
 */
function wireArgs(command: RedisCommand): [string, ...string[]] {
  const [name, ...args] = command;
  return [name.toUpperCase(), ...args];
}

/** Runs one command: 200 with its result, 400 with a redis error or a refused command. */
export async function runCommand(redis: Redis, command: RedisCommand, base64: boolean): Promise<Answer> {
  const refused = unsupportedReason(command);
  if (refused !== undefined) {
    return { status: 400, body: { error: refused } };
  }
  try {
    const reply: unknown = await redis.callBuffer(...wireArgs(command));
    return { status: 200, body: { result: encodeReply(reply, base64) } };
  } catch (error) {
    if (isReplyError(error)) {
      return { status: 400, body: { error: error.message } };
    }
    throw unavailable(redis, error);
  }
}

/**
 * Sends `wire` as one ioredis pipeline (one socket write, so no other request's commands can
 * land in between) and returns each command's `[error, reply]`. Connection failures throw.
 */
async function execBatch(redis: Redis, wire: readonly RedisCommand[]): Promise<[Error | null, unknown][]> {
  const pipeline = redis.pipeline();
  for (const command of wire) {
    pipeline.callBuffer(...wireArgs(command));
  }
  let results: [Error | null, unknown][] | null;
  try {
    results = await pipeline.exec();
  } catch (error) {
    throw unavailable(redis, error);
  }
  if (results === null || results.length !== wire.length) {
    throw unavailable(redis, new Error('the pipeline returned no results'));
  }
  const broken = results.find(([error]) => error !== null && !isReplyError(error));
  if (broken !== undefined) {
    throw unavailable(redis, broken[0]);
  }
  return results;
}

/**
 * Runs a pipeline: always 200 with one envelope per command, each command run even when
 * another one fails (refused commands get an error envelope and are not sent).
 */
export async function runPipeline(redis: Redis, commands: readonly RedisCommand[], base64: boolean): Promise<Answer> {
  const refusals = commands.map((command) => unsupportedReason(command));
  const runnable = commands.filter((_, index) => refusals[index] === undefined);
  const results = runnable.length > 0 ? await execBatch(redis, runnable) : [];
  let next = 0;
  const envelopes: ReplyEnvelope[] = refusals.map((refused) => {
    if (refused !== undefined) {
      return { error: refused };
    }
    const [error, reply] = results[next++] ?? [new Error('ERR missing reply'), null];
    return envelope(error, reply, base64);
  });
  return { status: 200, body: envelopes };
}

/**
 * Runs a transaction as MULTI, the commands, EXEC on the shared connection.
 *
 * 200 with one envelope per command (runtime errors such as WRONGTYPE stay per command,
 * as in redis); 400 with a single error when redis aborts the transaction (EXECABORT, e.g. a
 * syntax error while queueing) or when a command may not run over REST — then nothing runs.
 */
export async function runTransaction(
  redis: Redis,
  commands: readonly RedisCommand[],
  base64: boolean,
): Promise<Answer> {
  const refused = commands.map((command) => unsupportedReason(command)).find((reason) => reason !== undefined);
  if (refused !== undefined) {
    return { status: 400, body: { error: refused } };
  }
  const results = await execBatch(redis, [['MULTI'], ...commands, ['EXEC']]);
  const [execError, execReply] = results[results.length - 1] ?? [null, null];
  if (execError !== null) {
    // Name the command that made redis discard the transaction, not just "previous errors".
    const queueErrors = results
      .slice(1, -1)
      .flatMap(([error], index) => (error ? [`command ${index}: ${error.message}`] : []));
    const detail = queueErrors.length > 0 ? ` (${queueErrors.join('; ')})` : '';
    return { status: 400, body: { error: `${execError.message}${detail}` } };
  }
  if (!Array.isArray(execReply)) {
    return { status: 400, body: { error: 'EXECABORT Transaction discarded' } };
  }
  const envelopes = (execReply as unknown[]).map((reply) =>
    reply instanceof Error ? envelope(reply, null, base64) : envelope(null, reply, base64),
  );
  return { status: 200, body: envelopes };
}
