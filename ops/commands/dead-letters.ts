/**
 * `dead-letters list | requeue | purge`: the entries the consumer gave up on (docs/contract.md §4.3), and
 * the two ways out of the dead-letter stream: back onto the results stream, or gone.
 */
import { fieldMap } from '../../functions/runtime-job-results/domain/job-result.js';
import type { RawEntry } from '../../functions/runtime-job-results/domain/job-result.js';
import { DEAD_LETTER_FIELDS } from '../../functions/runtime-job-results/start-flow/messages.js';
import type { OpsContext } from '../context.js';
import { NotFoundError, RefusedError, UsageError } from '../errors.js';
import { countText, isoOf, tableText } from '../output.js';
import { entryIdArg, StreamView } from '../stream.js';

/** Field that records which dead letter a requeued entry came from. */
const REQUEUED_FROM = 'requeued_from';

const PAGE_SIZE = 100;

export interface DeadLetterRow {
  readonly id: string;
  readonly sourceId: string | undefined;
  readonly reason: string | undefined;
  readonly attempts: number | undefined;
  readonly at: string | undefined;
  readonly gameId: string | undefined;
  /** Every field as stored, the last value of a repeated one. */
  readonly fields: Readonly<Record<string, string>>;
}

const rowOf = (entry: RawEntry): DeadLetterRow => {
  const fields = fieldMap(entry);
  const number = (name: string): number | undefined => {
    const value = Number(fields.get(name));
    return fields.has(name) && Number.isFinite(value) ? value : undefined;
  };
  return {
    id: entry.id,
    sourceId: fields.get('dead_letter_source_id'),
    reason: fields.get('dead_letter_reason'),
    attempts: number('dead_letter_attempts'),
    at: isoOf(number('dead_letter_at_ms')),
    gameId: fields.get('game_id'),
    fields: Object.fromEntries(fields),
  };
};

export interface DeadLetterList {
  readonly key: string;
  readonly total: number;
  readonly deadLetters: readonly DeadLetterRow[];
}

/** The oldest `limit` dead letters and how many there are in all. */
export const deadLettersList = async (ctx: OpsContext, options: { limit?: number } = {}): Promise<DeadLetterList> => {
  const limit = options.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--limit must be a whole number above 0, got ${limit}`);
  const dead = new StreamView(
    ctx.dependencies.redis,
    ctx.dependencies.config.streams.deadLetters,
    ctx.dependencies.bounds.upstash,
  );
  const [total, entries] = await Promise.all([dead.length(), dead.range('-', '+', limit)]);
  const list: DeadLetterList = { key: dead.key, total, deadLetters: entries.map(rowOf) };
  ctx.output.result(list, () => {
    const table = tableText(
      [
        ['id', 'dead letter'],
        ['sourceId', 'source entry'],
        ['gameId', 'game'],
        ['reason', 'reason'],
        ['attempts', 'attempts'],
        ['at', 'at'],
      ],
      list.deadLetters,
    );
    return `${table}\n\n${list.deadLetters.length} of ${total} dead letters in ${dead.key}`;
  });
  return list;
};

export interface Requeued {
  readonly deadLetterId: string;
  /** The id of the new entry on the results stream. */
  readonly entryId: string;
}

/** The original entry's fields, and where it comes back from. */
const requeuedFields = (entry: RawEntry): Record<string, string> => ({
  ...Object.fromEntries(entry.fields.filter(([field]) => !DEAD_LETTER_FIELDS.has(field) && field !== REQUEUED_FROM)),
  [REQUEUED_FROM]: entry.id,
});

/**
 * Puts dead letters back on the results stream as new entries (the consumer processes them
 * on its next invocation), then deletes them from the dead-letter stream. The copies go
 * first and the deletes only once every copy of the page is in: a failure in between leaves
 * an entry in both streams (processed twice, which is invisible), never in neither.
 */
export const deadLettersRequeue = async (
  ctx: OpsContext,
  ids: readonly string[],
  options: { all?: boolean } = {},
): Promise<{ requeued: readonly Requeued[] }> => {
  const all = options.all === true;
  if (all === ids.length > 0) throw new UsageError('give either dead-letter ids or --all');
  const { redis, config } = ctx.dependencies;
  const dead = new StreamView(redis, config.streams.deadLetters, ctx.dependencies.bounds.upstash);
  const requeued: Requeued[] = [];
  const requeuePage = async (page: readonly RawEntry[]): Promise<void> => {
    const copies = redis.pipeline();
    for (const entry of page) copies.xadd(config.streams.results, '*', requeuedFields(entry));
    // Throws if any copy failed; then nothing of the page is deleted.
    const newIds: unknown[] = await copies.exec();
    await redis.exec(['XDEL', dead.key, ...page.map((entry) => entry.id)]);
    for (const [index, entry] of page.entries())
      requeued.push({ deadLetterId: entry.id, entryId: String(newIds[index]) });
  };

  if (all) {
    // Dead letters added while this runs are left for the next look.
    const end = await dead.lastEntryId();
    const total = end === undefined ? 0 : await dead.countBetween('-', end);
    const progress = ctx.output.progress(total, 'requeue');
    try {
      if (end !== undefined) {
        for await (const page of dead.pages('-', end, PAGE_SIZE)) {
          await requeuePage(page);
          progress.increment(page.length);
        }
      }
    } finally {
      progress.stop();
    }
  } else {
    const wanted = [...new Set(ids.map((id) => entryIdArg(id, 'a dead-letter id')))];
    const entries = await Promise.all(wanted.map((id) => dead.get(id)));
    const missing = wanted.filter((_, index) => entries[index] === undefined);
    if (missing.length > 0) {
      throw new NotFoundError(
        `not in ${dead.key}: ${missing.join(', ')}; nothing was requeued. See \`npm run ops -- dead-letters list\`.`,
      );
    }
    const found = entries.filter((entry): entry is RawEntry => entry !== undefined);
    for (let i = 0; i < found.length; i += PAGE_SIZE) await requeuePage(found.slice(i, i + PAGE_SIZE));
  }

  const result = { requeued };
  ctx.output.result(result, () =>
    requeued.length === 0
      ? 'no dead letters to requeue'
      : `${tableText(
          [
            ['deadLetterId', 'dead letter'],
            ['entryId', `new entry in ${config.streams.results}`],
          ],
          requeued,
        )}\n\n` + `${requeued.length} requeued; the next invocation processes them.`,
  );
  return result;
};

/** Deletes the dead letters older than `beforeText` (XTRIM MINID), after confirmation. */
export const deadLettersPurge = async (
  ctx: OpsContext,
  beforeText: string,
  options: { yes?: boolean } = {},
): Promise<{ removed: number }> => {
  const before = entryIdArg(beforeText, '--before');
  const dead = new StreamView(
    ctx.dependencies.redis,
    ctx.dependencies.config.streams.deadLetters,
    ctx.dependencies.bounds.upstash,
  );
  const [length, after, itself] = await Promise.all([dead.length(), dead.after(before), dead.get(before)]);
  const older = Math.max(0, length - after.count - (itself === undefined ? 0 : 1));
  if (older === 0) {
    const result = { removed: 0 };
    ctx.output.result(result, () => `no dead letters older than ${before} in ${dead.key}`);
    return result;
  }
  ctx.output.notice(
    `${countText(older, 'dead letter', 'dead letters')} older than ${before} will be deleted from ${dead.key} for good.`,
  );
  if (options.yes !== true && !(await ctx.confirm('Delete them?'))) {
    throw new RefusedError('not confirmed; nothing was deleted (pass --yes to skip the question)', 'not_confirmed');
  }
  const removed = Number(await ctx.dependencies.redis.exec(['XTRIM', dead.key, 'MINID', before]));
  const result = { removed };
  ctx.output.result(result, () => `${removed} dead letters deleted from ${dead.key}`);
  return result;
};
