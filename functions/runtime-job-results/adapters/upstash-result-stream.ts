import type { Redis } from '@upstash/redis';
import { LAST_POSSIBLE_ID, STREAM_START } from '../domain/entry-id.js';
import { limits } from '../domain/job-result.js';
import type { RawEntry } from '../domain/job-result.js';
import { MalformedStreamReplyError } from '../errors.js';
import type { LeaseAsk, ResultStream, StreamPage } from '../ports.js';
import type { RequestBounds } from './invocation-deadline.js';

/**
 * Parses a raw `XRANGE` reply, `[[id, [field, value, …]], …]`. The client's typed result
 * claims an object; with `automaticDeserialization: false` it is this array, so it is
 * checked here rather than trusted. {@link READ_SCRIPT}'s reply has the same shape, except
 * that an entry over a limit comes as `[id, bytes, fields, game_id]`.
 */
export const parseRangeReply = (reply: unknown): RawEntry[] => {
  if (!Array.isArray(reply)) throw new MalformedStreamReplyError('XRANGE reply is not an array');
  return reply.map((row: unknown): RawEntry => {
    if (Array.isArray(row) && row.length === 4) return withheldEntry(row);
    if (!Array.isArray(row) || row.length !== 2) throw new MalformedStreamReplyError('entry is not [id, fields]');
    const [id, flat] = row as [unknown, unknown];
    if (typeof id !== 'string') throw new MalformedStreamReplyError('entry id is not a string');
    if (!Array.isArray(flat) || flat.length % 2 !== 0) {
      throw new MalformedStreamReplyError(`fields of ${id} are not field/value pairs`);
    }
    const fields: (readonly [string, string])[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const field: unknown = flat[i];
      const value: unknown = flat[i + 1];
      if (typeof field !== 'string' || typeof value !== 'string') {
        throw new MalformedStreamReplyError(`fields of ${id} are not strings`);
      }
      fields.push([field, value]);
    }
    return { id, fields };
  });
};

const withheldEntry = (row: readonly unknown[]): RawEntry => {
  const [id, bytes, fields, gameId] = row;
  if (typeof id !== 'string' || typeof bytes !== 'number' || typeof fields !== 'number' || typeof gameId !== 'string') {
    throw new MalformedStreamReplyError('withheld entry is not [id, bytes, fields, game_id]');
  }
  return { id, fields: gameId === '' ? [] : [['game_id', gameId]], withheld: { bytes, fields } };
};

/**
 * Most bytes of entry data one read brings back. With entries capped at
 * `limits.entryBytes`, a batch of the largest entries would otherwise be BATCH_SIZE times
 * that (64 MB at 1,000); 4 MiB keeps a read, and the prefetched next one, far from a 256 MB
 * function's memory, and is a thousand typical entries.
 */
export const READ_BUDGET_BYTES = 4 * 1024 * 1024;

/** Longest `game_id` kept from an entry that is withheld, for its dead letter and log line. */
const WITHHELD_GAME_ID_BYTES = 256;

// XRANGE after an id, inside Redis, in pages: an entry over a limit comes back as its id,
// size and game_id only (it is dead-lettered without being loaded), and the read stops
// before the entry that would pass the byte budget (but always returns at least one).
// Returns {1 if cut short by the budget else 0, entries, the lease ask (KEYS[2]) or false}:
// the holder of the offset lease learns of an ask with no request of its own. Lua tables must
// not hold nil, so a missing game_id is ''. Nothing comes after the largest possible id (ARGV[7]), and an
// exclusive range starting there is an error, so the read stops at it.
// Lines joined at load time: a template literal would keep its newlines in the minified bundle.
const READ_SCRIPT = [
  "local ask = redis.call('GET', KEYS[2])",
  'if ARGV[1] == ARGV[7] then return {0, {}, ask} end',
  "local start = '(' .. ARGV[1]",
  'local count = tonumber(ARGV[2])',
  'local maxBytes = tonumber(ARGV[3])',
  'local maxFields = tonumber(ARGV[4])',
  'local budget = tonumber(ARGV[5])',
  'local keepId = tonumber(ARGV[6])',
  'local out = {}',
  'local used = 0',
  'while #out < count do',
  "  local page = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', math.min(10, count - #out))",
  '  if #page == 0 then break end',
  '  for _, entry in ipairs(page) do',
  '    local flat = entry[2]',
  '    local bytes = 0',
  '    for i = 1, #flat do bytes = bytes + #flat[i] end',
  '    local fields = math.floor(#flat / 2)',
  '    if bytes > maxBytes or fields > maxFields then',
  "      local gameId = ''",
  '      for i = 1, #flat - 1, 2 do',
  "        if flat[i] == 'game_id' then gameId = string.sub(flat[i + 1], 1, keepId) end",
  '      end',
  '      out[#out + 1] = {entry[1], bytes, fields, gameId}',
  '    else',
  '      if #out > 0 and used + bytes > budget then return {1, out, ask} end',
  '      out[#out + 1] = entry',
  '      used = used + bytes',
  '    end',
  '  end',
  '  local last = page[#page][1]',
  '  if last == ARGV[7] then break end',
  "  start = '(' .. last",
  'end',
  'return {0, out, ask}',
].join('\n');

// Counts entries after an id without shipping them over HTTP: XRANGE pages inside Redis,
// stopping at the largest possible id (ARGV[3]) as the read does.
const BACKLOG_SCRIPT = [
  'if ARGV[1] == ARGV[3] then return {0, false} end',
  "local start = '(' .. ARGV[1]",
  'local cap = tonumber(ARGV[2])',
  'local count = 0',
  'local oldest = false',
  'while count < cap do',
  "  local page = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', math.min(1000, cap - count))",
  '  if #page == 0 then break end',
  '  if not oldest then oldest = page[1][1] end',
  '  count = count + #page',
  '  local last = page[#page][1]',
  '  if last == ARGV[3] then break end',
  "  start = '(' .. last",
  'end',
  'return {count, oldest}',
].join('\n');

// XINFO STREAM, or false when the key does not exist: told apart by EXISTS inside Redis,
// not by the text of the error XINFO gives for a missing key.
const INFO_SCRIPT = [
  "if redis.call('EXISTS', KEYS[1]) == 0 then return false end",
  "return redis.call('XINFO', 'STREAM', KEYS[1])",
].join('\n');

/** The key beside the results stream where a lease ask waits (docs/contract.md §6.5). */
export const leaseAskKey = (stream: string): string => `${stream}:lease_ask`;

const ASK_SEPARATOR = ' ';

/** An ask as stored: `"<startedAtMs> <by>"`; anything else is no ask. */
const askOf = (value: unknown): LeaseAsk | undefined => {
  if (typeof value !== 'string') return undefined;
  const at = value.indexOf(ASK_SEPARATOR);
  const startedAtMs = Number(value.slice(0, at));
  if (at <= 0 || !Number.isSafeInteger(startedAtMs)) return undefined;
  return { startedAtMs, by: value.slice(at + 1) };
};

/** Reads the results stream over the Upstash REST API; never blocks (no `BLOCK`). */
export class UpstashResultStream implements ResultStream {
  readonly #redis: Redis;
  readonly #stream: string;
  readonly #bounds: RequestBounds;

  /** `bounds`: the ones the client was made with, to name Upstash when the deadline cuts a request. */
  constructor(redis: Redis, stream: string, bounds: RequestBounds) {
    this.#redis = redis;
    this.#stream = stream;
    this.#bounds = bounds;
  }

  /** One request through the client; a request cut at the invocation's deadline names Upstash. */
  async #exec(command: [command: string, ...args: (string | number)[]]): Promise<unknown> {
    try {
      return await this.#redis.exec(command);
    } catch (error) {
      throw this.#bounds.explain(error);
    }
  }

  /**
   * Up to `count` entries after `afterId`, and fewer when their bytes pass
   * {@link READ_BUDGET_BYTES}; an entry over `limits.entryBytes` or `limits.entryFields` comes
   * without its fields (`withheld`), so one huge entry cannot exhaust the function's memory.
   */
  async readAfter(afterId: string, count: number): Promise<StreamPage> {
    // `exec`, not `eval`: the client's eval reshapes a reply that is not a list before it can be checked.
    const reply: unknown = await this.#exec([
      'EVAL',
      READ_SCRIPT,
      2,
      this.#stream,
      leaseAskKey(this.#stream),
      afterId,
      String(count),
      String(limits.entryBytes),
      String(limits.entryFields),
      String(READ_BUDGET_BYTES),
      String(WITHHELD_GAME_ID_BYTES),
      LAST_POSSIBLE_ID,
    ]);
    // Lua's false (no ask) comes back as nil, which drops off the end of the list.
    if (!Array.isArray(reply) || reply.length < 2 || reply.length > 3 || typeof reply[0] !== 'number') {
      throw new MalformedStreamReplyError('read script reply is not [cut short, entries, ask]');
    }
    const ask = askOf(reply[2]);
    return { cutShort: reply[0] === 1, entries: parseRangeReply(reply[1]), ...(ask === undefined ? {} : { ask }) };
  }

  async askForLease(ask: LeaseAsk, ttlMs: number): Promise<void> {
    const value = `${ask.startedAtMs}${ASK_SEPARATOR}${ask.by}`;
    await this.#exec(['SET', leaseAskKey(this.#stream), value, 'PX', Math.max(1, Math.ceil(ttlMs))]);
  }

  async lastGeneratedId(): Promise<string | undefined> {
    const info = await this.#info();
    if (info === undefined) return undefined;
    const id = info.get('last-generated-id');
    if (typeof id !== 'string') throw new MalformedStreamReplyError('XINFO STREAM has no last-generated-id');
    return id;
  }

  async maxDeletedId(): Promise<string | undefined> {
    const id = (await this.#info())?.get('max-deleted-entry-id');
    // `0-0` is what Redis reports for a stream nothing was ever deleted from.
    return typeof id === 'string' && id !== STREAM_START ? id : undefined;
  }

  /** `XINFO STREAM` as a map of its top-level fields; undefined when the stream does not exist. */
  async #info(): Promise<Map<unknown, unknown> | undefined> {
    const reply = await this.#exec(['EVAL', INFO_SCRIPT, 1, this.#stream]);
    // Lua's false comes back as nil.
    if (reply === null) return undefined;
    if (!Array.isArray(reply)) throw new MalformedStreamReplyError('XINFO STREAM reply is not an array');
    const fields = new Map<unknown, unknown>();
    for (let i = 0; i + 1 < reply.length; i += 2) fields.set(reply[i], reply[i + 1]);
    return fields;
  }

  async backlogAfter(afterId: string, cap: number): Promise<{ count: number; oldestId: string | undefined }> {
    const reply = await this.#exec(['EVAL', BACKLOG_SCRIPT, 1, this.#stream, afterId, String(cap), LAST_POSSIBLE_ID]);
    if (!Array.isArray(reply) || typeof reply[0] !== 'number') {
      throw new MalformedStreamReplyError('backlog script reply is not [count, oldest]');
    }
    const oldest: unknown = reply[1];
    return { count: reply[0], oldestId: typeof oldest === 'string' ? oldest : undefined };
  }
}
