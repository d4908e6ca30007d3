/**
 * Reading and counting a stream for operators, over the same Upstash client the consumer
 * uses (raw replies: `automaticDeserialization` is off).
 */
import type { Redis } from '@upstash/redis';
import type { RequestBounds } from '../functions/runtime-job-results/adapters/invocation-deadline.js';
import {
  parseRangeReply,
  UpstashResultStream,
} from '../functions/runtime-job-results/adapters/upstash-result-stream.js';
import { parseEntryId, STREAM_START } from '../functions/runtime-job-results/domain/entry-id.js';
import type { RawEntry } from '../functions/runtime-job-results/domain/job-result.js';
import { UsageError } from './errors.js';

/** Counting stops here: past it the figure reads "at least". */
export const COUNT_CAP = 10_000_000;

/** Parses an entry id given on the command line, in Redis's canonical form. */
export const entryIdArg = (text: string, what: string): string => {
  const id = parseEntryId(text.trim());
  if (id === undefined)
    throw new UsageError(
      `${what} must be a stream entry id <ms>-<seq> (e.g. 1718000000000-0), got ${JSON.stringify(text)}`,
    );
  return id.text;
};

/** An entry id, or `-` / `+` for the start / end of the stream. */
export const rangeBoundArg = (text: string, what: string): string =>
  text === '-' || text === '+' ? text : entryIdArg(text, what);

/** One stream, seen by an operator. */
export class StreamView {
  readonly key: string;
  readonly #redis: Redis;
  readonly #stream: UpstashResultStream;

  constructor(redis: Redis, key: string, bounds: RequestBounds) {
    this.key = key;
    this.#redis = redis;
    this.#stream = new UpstashResultStream(redis, key, bounds);
  }

  async length(): Promise<number> {
    return Number(await this.#redis.exec(['XLEN', this.key]));
  }

  /** Entries from `start` to `end`, both inclusive unless prefixed with `(`. */
  async range(start: string, end: string, count: number): Promise<RawEntry[]> {
    return parseRangeReply(await this.#redis.exec(['XRANGE', this.key, start, end, 'COUNT', count]));
  }

  async get(id: string): Promise<RawEntry | undefined> {
    return (await this.range(id, id, 1))[0];
  }

  /** The newest entry's id, or undefined for an empty stream. */
  async lastEntryId(): Promise<string | undefined> {
    const reply = parseRangeReply(await this.#redis.exec(['XREVRANGE', this.key, '+', '-', 'COUNT', 1]));
    return reply[0]?.id;
  }

  /** The last id ever added, deleted or not; undefined when the stream does not exist. */
  lastGeneratedId(): Promise<string | undefined> {
    return this.#stream.lastGeneratedId();
  }

  /** Entries with ids strictly after `id`, and the first of them. */
  after(id: string): Promise<{ count: number; oldestId: string | undefined }> {
    return this.#stream.backlogAfter(id === '-' ? STREAM_START : id, COUNT_CAP);
  }

  /** How many entries lie between two bounds, both inclusive (`-` and `+` allowed). */
  async countBetween(from: string, to: string): Promise<number> {
    const [afterFrom, fromItself, afterTo] = await Promise.all([
      this.after(from),
      from === '-' ? undefined : this.get(from),
      to === '+' ? { count: 0 } : this.after(to),
    ]);
    return Math.max(0, afterFrom.count + (fromItself === undefined ? 0 : 1) - afterTo.count);
  }

  /** The entries from `from` to `to` (inclusive), a page at a time. */
  async *pages(from: string, to: string, pageSize: number): AsyncGenerator<RawEntry[]> {
    let start = from;
    for (;;) {
      const page = await this.range(start, to, pageSize);
      if (page.length > 0) yield page;
      const last = page.at(-1);
      if (page.length < pageSize || last === undefined) return;
      start = `(${last.id}`;
    }
  }
}
