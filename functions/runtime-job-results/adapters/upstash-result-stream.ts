import type { Redis } from '@upstash/redis';
import { STREAM_START } from '../domain/entry-id.js';
import type { RawEntry } from '../domain/job-result.js';
import type { ResultStream } from '../ports.js';
import { MalformedStreamReplyError } from '../errors.js';

/**
 * Parses a raw `XRANGE` reply, `[[id, [field, value, …]], …]`. The client's typed result
 * claims an object; with `automaticDeserialization: false` it is this array, so it is
 * checked here rather than trusted.
 */
export const parseRangeReply = (reply: unknown): RawEntry[] => {
  if (!Array.isArray(reply)) throw new MalformedStreamReplyError('XRANGE reply is not an array');
  return reply.map((row: unknown): RawEntry => {
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

// Counts entries after an id without shipping them over HTTP: XRANGE pages inside Redis.
const BACKLOG_SCRIPT = `
local start = '(' .. ARGV[1]
local cap = tonumber(ARGV[2])
local count = 0
local oldest = false
while count < cap do
  local page = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', math.min(1000, cap - count))
  if #page == 0 then break end
  if not oldest then oldest = page[1][1] end
  count = count + #page
  start = '(' .. page[#page][1]
end
return {count, oldest}
`;

/** Reads the results stream over the Upstash REST API; never blocks (no `BLOCK`). */
export class UpstashResultStream implements ResultStream {
  readonly #redis: Redis;
  readonly #stream: string;

  constructor(redis: Redis, stream: string) {
    this.#redis = redis;
    this.#stream = stream;
  }

  async readAfter(afterId: string, count: number): Promise<RawEntry[]> {
    // `(` makes the start exclusive, so the last done entry is not read again.
    const reply: unknown = await this.#redis.exec(['XRANGE', this.#stream, `(${afterId}`, '+', 'COUNT', count]);
    return parseRangeReply(reply);
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
    let reply: unknown;
    try {
      reply = await this.#redis.exec(['XINFO', 'STREAM', this.#stream]);
    } catch (error) {
      if (error instanceof Error && /no such key/i.test(error.message)) return undefined;
      throw error;
    }
    if (!Array.isArray(reply)) throw new MalformedStreamReplyError('XINFO STREAM reply is not an array');
    const fields = new Map<unknown, unknown>();
    for (let i = 0; i + 1 < reply.length; i += 2) fields.set(reply[i], reply[i + 1]);
    return fields;
  }

  async backlogAfter(afterId: string, cap: number): Promise<{ count: number; oldestId: string | undefined }> {
    const reply: unknown = await this.#redis.eval(BACKLOG_SCRIPT, [this.#stream], [afterId, String(cap)]);
    if (!Array.isArray(reply) || typeof reply[0] !== 'number') {
      throw new MalformedStreamReplyError('backlog script reply is not [count, oldest]');
    }
    const oldest: unknown = reply[1];
    return { count: reply[0], oldestId: typeof oldest === 'string' ? oldest : undefined };
  }
}
