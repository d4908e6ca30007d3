/**
 * `offset show | set <id> | reset`: the consumer's position in the results stream. Moving it
 * is confirmed by the operator and fenced by the lease, like every write of the consumer.
 */
import { compareEntryIds, STREAM_START } from '../../functions/runtime-job-results/domain/entry-id.js';
import type { OffsetState } from '../../functions/runtime-job-results/ports.js';
import type { OpsContext } from '../context.js';
import { LeaseHeldError, RefusedError } from '../errors.js';
import { withOperatorLease } from '../lease.js';
import type { OperatorLeaseOptions } from '../lease.js';
import { leaseActive, readOffsetItem } from '../offset-item.js';
import { countText, fieldsText, isoOf } from '../output.js';
import { entryIdArg, StreamView } from '../stream.js';

export interface OffsetView {
  readonly lastEntryId: string;
  readonly updatedAt: string | undefined;
  /** Whether the entry at the offset is still in the stream (`0-0` never is, and needs not be). */
  readonly inStream: boolean;
  readonly entriesBehind: number;
  readonly pendingRetries: number;
  readonly leaseOwner: string | undefined;
  readonly leaseExpiresAt: string | undefined;
}

export const offsetShow = async (ctx: OpsContext): Promise<OffsetView> => {
  const results = new StreamView(
    ctx.dependencies.redis,
    ctx.dependencies.config.streams.results,
    ctx.dependencies.bounds.upstash,
  );
  const item = await readOffsetItem(ctx);
  const offset = item.state.lastEntryId;
  const [entry, behind] = await Promise.all([
    offset === STREAM_START ? undefined : results.get(offset),
    results.after(offset),
  ]);
  const active = leaseActive(item.lease, ctx.nowMs());
  const view: OffsetView = {
    lastEntryId: offset,
    updatedAt: item.updatedAt,
    inStream: entry !== undefined,
    entriesBehind: behind.count,
    pendingRetries: Object.keys(item.state.attempts).length,
    leaseOwner: active ? item.lease.owner : undefined,
    leaseExpiresAt: active ? isoOf(item.lease.expiresAtMs) : undefined,
  };
  ctx.output.result(view, () =>
    fieldsText([
      ['last entry id', view.lastEntryId],
      [
        'in stream',
        offset === STREAM_START ? 'n/a (start of stream)' : view.inStream ? 'yes' : 'NO (trimmed or deleted)',
      ],
      ['entries behind', view.entriesBehind],
      ['pending retries', view.pendingRetries],
      ['updated at', view.updatedAt ?? '(never written)'],
      ['lease', view.leaseOwner === undefined ? 'free' : `held by ${view.leaseOwner} until ${view.leaseExpiresAt}`],
    ]),
  );
  return view;
};

export interface OffsetMoveOptions extends OperatorLeaseOptions {
  /** Do not ask for confirmation. */
  readonly yes?: boolean;
  /** Accept an id that is not (or no longer) in the stream. */
  readonly force?: boolean;
}

export interface OffsetMove {
  readonly previous: string;
  readonly lastEntryId: string;
  readonly changed: boolean;
  /** `back`: entries after the new offset are processed again; `forward`: skipped for good. */
  readonly direction: 'back' | 'forward' | 'none';
  /** Entries between the two offsets. */
  readonly entries: number;
}

/** Moves the offset to `idText` (an entry of the stream, or `0-0`). */
export const offsetSet = async (
  ctx: OpsContext,
  idText: string,
  options: OffsetMoveOptions = {},
): Promise<OffsetMove> => {
  const target = entryIdArg(idText, 'the new offset');
  const results = new StreamView(
    ctx.dependencies.redis,
    ctx.dependencies.config.streams.results,
    ctx.dependencies.bounds.upstash,
  );
  if (target !== STREAM_START && options.force !== true && (await results.get(target)) === undefined) {
    throw new RefusedError(
      `entry ${target} is not in ${results.key} (never added, or trimmed): check the id, or pass --force ` +
        'to set it anyway (the consumer then reads from the first entry after it).',
      'not_in_stream',
    );
  }
  const item = await readOffsetItem(ctx);
  const previous = item.state.lastEntryId;
  const order = compareEntryIds(target, previous);
  if (order === 0) {
    const move: OffsetMove = { previous, lastEntryId: target, changed: false, direction: 'none', entries: 0 };
    ctx.output.result(move, () => `the offset is already ${target}; nothing changed`);
    return move;
  }
  // Not waiting: fail before the question rather than after it.
  if (options.leaseWaitMs === 0 && leaseActive(item.lease, Date.now())) {
    throw new LeaseHeldError(item.lease.owner, item.lease.expiresAtMs);
  }

  const [afterTarget, afterPrevious] = await Promise.all([results.after(target), results.after(previous)]);
  const entries = Math.abs(afterTarget.count - afterPrevious.count);
  const direction = order < 0 ? 'back' : 'forward';
  ctx.output.notice(
    direction === 'back'
      ? `Moving the offset back from ${previous} to ${target}: the next invocations process ${countText(entries, 'entry', 'entries')} again. ` +
          'Replays change nothing visible (every status write is a compare-and-set) but cost requests ' +
          '(about one DynamoDB read or write each), and invalid entries are dead-lettered again.'
      : `Moving the offset forward from ${previous} to ${target}: ${countText(entries, 'entry is', 'entries are')} SKIPPED and never processed; ` +
          'games waiting on them stay in starting.',
  );
  if (options.yes !== true && !(await ctx.confirm('Move the offset?'))) {
    throw new RefusedError('not confirmed; the offset is unchanged (pass --yes to skip the question)', 'not_confirmed');
  }

  await withOperatorLease(
    ctx,
    async (state) => {
      if (state.lastEntryId !== previous) {
        throw new RefusedError(
          `the offset moved from ${previous} to ${state.lastEntryId} meanwhile; nothing changed. Check with \`npm run ops -- status\` and run the command again.`,
          'offset_moved',
        );
      }
      await ctx.dependencies.offsets.commit(ctx.operator, withOffset(state, target));
    },
    options,
  );
  const move: OffsetMove = { previous, lastEntryId: target, changed: true, direction, entries };
  ctx.output.result(
    move,
    () =>
      `offset moved from ${previous} to ${target} (${countText(entries, 'entry', 'entries')} ${direction === 'back' ? 'to process again' : 'skipped'})`,
  );
  return move;
};

/** `offset set 0-0`: the next invocations replay the whole stream. */
export const offsetReset = (ctx: OpsContext, options: OffsetMoveOptions = {}): Promise<OffsetMove> =>
  offsetSet(ctx, STREAM_START, options);

/**
 * Retry counts below the new offset belong to entries that are done or skipped now. The
 * record of entries finished above the offset is kept when moving forward (they stay done),
 * and dropped when moving back: the operator asked for those entries to be processed again.
 */
const withOffset = (state: OffsetState, lastEntryId: string): OffsetState => {
  const forward = compareEntryIds(lastEntryId, state.lastEntryId) > 0;
  const finished = forward
    ? (state.finished ?? []).filter((range) => compareEntryIds(range.last, lastEntryId) > 0)
    : [];
  return {
    lastEntryId,
    attempts: Object.fromEntries(
      Object.entries(state.attempts).filter(([entryId]) => compareEntryIds(entryId, lastEntryId) > 0),
    ),
    ...(finished.length > 0 ? { finished } : {}),
  };
};
