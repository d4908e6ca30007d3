/**
 * The request and reply formats of the Upstash Redis REST API, independent of HTTP and of
 * any Redis client: what a body may contain, which commands we refuse, how replies are encoded.
 */

/** A redis command as sent to redis: name first, every argument a string. */
export type RedisCommand = readonly [name: string, ...args: string[]];

/** Any JSON value, as we put it in a response body. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One element of a pipeline / multi-exec answer, and the body of a single-command answer. */
export type ReplyEnvelope = { result: JsonValue } | { error: string };

/** The three endpoints: one command, a pipeline, a transaction. */
export type Endpoint = 'command' | 'pipeline' | 'multi-exec';

/** A parse result: the value, or the error text for a 400 answer. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const COMMAND_SHAPE = '["COMMAND", "arg", ...]';

/**
 * Validates one command and turns its numbers and booleans into strings, as Upstash does
 * (the official client sends `["set", "k", 1]` for `set("k", 1)`).
 */
export function parseCommand(value: unknown): Parsed<RedisCommand> {
  if (!Array.isArray(value)) {
    return { ok: false, error: `ERR a command must be a JSON array of strings: ${COMMAND_SHAPE}` };
  }
  if (value.length === 0) {
    return { ok: false, error: `ERR empty command: expected ${COMMAND_SHAPE}` };
  }
  const parts: string[] = [];
  for (const [index, part] of (value as unknown[]).entries()) {
    if (typeof part === 'string') {
      parts.push(part);
    } else if (typeof part === 'number' || typeof part === 'boolean') {
      parts.push(String(part));
    } else {
      const kind = part === null ? 'null' : Array.isArray(part) ? 'an array' : `a ${typeof part}`;
      return {
        ok: false,
        error: `ERR command element ${index} is ${kind}: only strings, numbers and booleans are allowed`,
      };
    }
  }
  const [name, ...args] = parts;
  if (name === undefined || name === '') {
    return { ok: false, error: 'ERR empty command name' };
  }
  return { ok: true, value: [name, ...args] };
}

/** Validates a pipeline or multi-exec body: a non-empty array of commands. */
export function parseCommandList(value: unknown, endpoint: 'pipeline' | 'multi-exec'): Parsed<RedisCommand[]> {
  if (!Array.isArray(value) || !value.every((item) => Array.isArray(item))) {
    return { ok: false, error: `ERR a ${endpoint} body must be a JSON array of commands: [${COMMAND_SHAPE}, ...]` };
  }
  if (value.length === 0) {
    return { ok: false, error: `ERR a ${endpoint} body must contain at least one command` };
  }
  const commands: RedisCommand[] = [];
  for (const [index, item] of (value as unknown[]).entries()) {
    const parsed = parseCommand(item);
    if (!parsed.ok) {
      return { ok: false, error: `${parsed.error} (command ${index} of the ${endpoint})` };
    }
    commands.push(parsed.value);
  }
  return { ok: true, value: commands };
}

/**
 * Commands that change the state of the connection they run on. All REST requests share
 * one connection to redis, so running these would leak state from one request into the next
 * (or, like SUBSCRIBE and MONITOR, take the connection over).
 */
const CONNECTION_STATE_COMMANDS = new Set([
  'WATCH',
  'UNWATCH',
  'MULTI',
  'EXEC',
  'DISCARD',
  'SUBSCRIBE',
  'PSUBSCRIBE',
  'SSUBSCRIBE',
  'UNSUBSCRIBE',
  'PUNSUBSCRIBE',
  'SUNSUBSCRIBE',
  'MONITOR',
  'SELECT',
  'QUIT',
  'RESET',
  'AUTH',
  'HELLO',
  'CLIENT',
  // These turn the connection into a replication stream or end the server every test shares.
  'SYNC',
  'PSYNC',
  'REPLICAOF',
  'SLAVEOF',
  'SHUTDOWN',
]);

/**
 * Commands that can wait on the server. On the shared connection one waiting request would
 * stall every other one behind it, so we answer with an error at once instead of hanging.
 */
const BLOCKING_COMMANDS = new Set([
  'BLPOP',
  'BRPOP',
  'BLMOVE',
  'BRPOPLPUSH',
  'BZPOPMIN',
  'BZPOPMAX',
  'BLMPOP',
  'BZMPOP',
  'WAIT',
  'WAITAOF',
]);

/** XREAD / XREADGROUP block only with the BLOCK option, which may appear before STREAMS. */
function hasBlockOption(args: readonly string[]): boolean {
  for (let i = 0; i < args.length; i += 1) {
    switch (args[i]?.toUpperCase()) {
      case 'BLOCK':
        return true;
      case 'GROUP':
        // GROUP <group> <consumer>: a group or consumer may well be named "block".
        i += 2;
        break;
      case 'COUNT':
        i += 1;
        break;
      case 'NOACK':
        break;
      default:
        // STREAMS starts the key list, where "BLOCK" is just a key name; anything else is a
        // syntax error that redis itself will report.
        return false;
    }
  }
  return false;
}

/** Why we refuse to run `command` over REST, or undefined when it may run. */
export function unsupportedReason(command: RedisCommand): string | undefined {
  const [name, ...args] = command;
  const upper = name.toUpperCase();
  if (CONNECTION_STATE_COMMANDS.has(upper) || BLOCKING_COMMANDS.has(upper)) {
    return `ERR command ${upper} is not supported over REST`;
  }
  if ((upper === 'XREAD' || upper === 'XREADGROUP') && hasBlockOption(args)) {
    return `ERR command ${upper} with BLOCK is not supported over REST`;
  }
  return undefined;
}

/**
 * Turns a raw redis reply (Buffers, integers, nil, nested arrays) into JSON.
 *
 * With `base64` every string at any depth — values, stream ids, field names, status replies
 * like OK — is base64 of its bytes, which is what `Upstash-Encoding: base64` promises and
 * what keeps binary values intact; otherwise strings are decoded as UTF-8. Integers and nil
 * stay as they are in both modes.
 */
export function encodeReply(reply: unknown, base64: boolean): JsonValue {
  if (reply === null || reply === undefined) {
    return null;
  }
  if (Buffer.isBuffer(reply)) {
    return base64 ? reply.toString('base64') : reply.toString('utf8');
  }
  if (typeof reply === 'string') {
    return base64 ? Buffer.from(reply, 'utf8').toString('base64') : reply;
  }
  if (typeof reply === 'number') {
    return reply;
  }
  if (typeof reply === 'bigint') {
    // Beyond 2^53 a JSON number would silently lose digits; the decimal text does not.
    return reply.toString();
  }
  if (Array.isArray(reply)) {
    return reply.map((item: unknown) => encodeReply(item, base64));
  }
  if (reply instanceof Error) {
    // Only inside EXEC replies, where redis reports a failed command in place.
    return { error: reply.message };
  }
  return String(reply);
}

/** The envelope for one command's outcome inside a pipeline or transaction answer. */
export function envelope(error: Error | null | undefined, reply: unknown, base64: boolean): ReplyEnvelope {
  return error ? { error: error.message } : { result: encodeReply(reply, base64) };
}
