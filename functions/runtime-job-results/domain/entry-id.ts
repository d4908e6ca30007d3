/**
 * Redis stream entry ids, `<ms>-<seq>`: two unsigned 64-bit integers. They must be compared
 * numerically: as strings `"999-0"` sorts after `"1000-0"` and `"5-10"` before `"5-9"`.
 */

const U64_MAX = (1n << 64n) - 1n;
const ENTRY_ID = /^(\d{1,20})-(\d{1,20})$/;

/** A parsed entry id; `text` keeps the canonical form Redis uses. */
export interface EntryId {
  readonly ms: bigint;
  readonly seq: bigint;
  readonly text: string;
}

/** The position before every entry: where a consumer without an offset starts, as the Go worker did. */
export const STREAM_START = '0-0';

/** The largest id a stream can hold: no entry can come after it. */
export const LAST_POSSIBLE_ID = `${U64_MAX}-${U64_MAX}`;

/** Parses `<ms>-<seq>`; returns undefined for anything else, including values above 2^64-1. */
export const parseEntryId = (text: string): EntryId | undefined => {
  const match = ENTRY_ID.exec(text);
  if (!match) return undefined;
  const ms = BigInt(match[1] ?? '');
  const seq = BigInt(match[2] ?? '');
  if (ms > U64_MAX || seq > U64_MAX) return undefined;
  return { ms, seq, text: `${ms}-${seq}` };
};

/** Like {@link parseEntryId} but throws, for ids that come from Redis or our own store. */
export const entryIdOf = (text: string): EntryId => {
  const id = parseEntryId(text);
  if (!id) throw new RangeError(`not a stream entry id: ${JSON.stringify(text)}`);
  return id;
};

/** Negative, zero or positive as `a` is before, equal to or after `b`, numerically. */
export const compareEntryIds = (a: string, b: string): number => {
  const left = entryIdOf(a);
  const right = entryIdOf(b);
  if (left.ms !== right.ms) return left.ms < right.ms ? -1 : 1;
  if (left.seq !== right.seq) return left.seq < right.seq ? -1 : 1;
  return 0;
};

/** Milliseconds since the entry was added, from the time part of its id (never negative). */
export const entryAgeMs = (id: string, nowMs: number): number => {
  const age = BigInt(nowMs) - entryIdOf(id).ms;
  return age > 0n ? Number(age) : 0;
};
