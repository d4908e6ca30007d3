/**
 * `status`: where the consumer stands — offset, lease, backlog, dead letters and how the last
 * invocation ended — in one look.
 */
import { compareEntryIds, entryAgeMs } from '../../functions/runtime-job-results/domain/entry-id.js';
import type { OpsContext } from '../context.js';
import { leaseActive, readOffsetItem } from '../offset-item.js';
import { COUNT_CAP, StreamView } from '../stream.js';
import { durationText, fieldsText, isoOf, sectionText, tableText } from '../output.js';

export interface StatusReport {
  readonly offset: {
    readonly lastEntryId: string;
    readonly updatedAt: string | undefined;
    /** Entries above the offset that failed transiently, with their tries so far. */
    readonly pendingRetries: readonly { entryId: string; attempts: number; lastError: string }[];
  };
  readonly lease: {
    readonly held: boolean;
    readonly owner: string | undefined;
    readonly expiresAt: string | undefined;
  };
  readonly stream: {
    readonly key: string;
    readonly length: number;
    readonly lastGeneratedId: string | undefined;
    /** Entries after the offset: not done yet. */
    readonly entriesBehind: number;
    /** True when counting stopped at the cap: `entriesBehind` is a lower bound. */
    readonly entriesBehindCapped: boolean;
    readonly oldestBehindId: string | undefined;
    readonly oldestBehindAgeMs: number | undefined;
    /** The offset is past the last id ever added: the stream was recreated or the offset set by hand. */
    readonly offsetAheadOfStream: boolean;
  };
  readonly deadLetters: { readonly key: string; readonly count: number };
  readonly lastInvocation: Readonly<Record<string, string | number>> | undefined;
}

/** Gathers the report: one read of the offset item, a few stream commands. */
export const status = async (ctx: OpsContext): Promise<StatusReport> => {
  const { streams } = ctx.dependencies.config;
  const results = new StreamView(ctx.dependencies.redis, streams.results, ctx.dependencies.bounds.upstash);
  const dead = new StreamView(ctx.dependencies.redis, streams.deadLetters, ctx.dependencies.bounds.upstash);
  const item = await readOffsetItem(ctx);
  const offset = item.state.lastEntryId;
  const [length, lastGeneratedId, behind, deadCount] = await Promise.all([
    results.length(),
    results.lastGeneratedId(),
    results.after(offset),
    dead.length(),
  ]);
  const now = ctx.nowMs();
  const active = leaseActive(item.lease, now);
  const report: StatusReport = {
    offset: {
      lastEntryId: offset,
      updatedAt: item.updatedAt,
      pendingRetries: Object.entries(item.state.attempts)
        .map(([entryId, row]) => ({ entryId, ...row }))
        .sort((a, b) => compareEntryIds(a.entryId, b.entryId)),
    },
    lease: {
      held: active,
      owner: active ? item.lease.owner : undefined,
      expiresAt: active ? isoOf(item.lease.expiresAtMs) : undefined,
    },
    stream: {
      key: streams.results,
      length,
      lastGeneratedId,
      entriesBehind: behind.count,
      entriesBehindCapped: behind.count >= COUNT_CAP,
      oldestBehindId: behind.oldestId,
      oldestBehindAgeMs: behind.oldestId === undefined ? undefined : entryAgeMs(behind.oldestId, now),
      offsetAheadOfStream: lastGeneratedId !== undefined && compareEntryIds(offset, lastGeneratedId) > 0,
    },
    deadLetters: { key: streams.deadLetters, count: deadCount },
    lastInvocation: item.lastInvocation,
  };
  ctx.output.result(report, () => statusText(report, now));
  if (report.stream.offsetAheadOfStream) {
    ctx.output.notice(
      `warning: the offset ${offset} is past the end of ${streams.results} (last id ${lastGeneratedId}): new entries ` +
        'would be skipped. See docs/runbook.md, "Offset past the end of the stream".',
    );
  }
  return report;
};

const statusText = (report: StatusReport, now: number): string => {
  const { offset, lease, stream, deadLetters, lastInvocation } = report;
  const blocks = [
    sectionText(
      'Offset',
      fieldsText([
        ['last entry id', offset.lastEntryId],
        ['updated at', offset.updatedAt ?? '(never written)'],
        ['pending retries', offset.pendingRetries.length],
      ]),
    ),
    sectionText(
      'Lease',
      lease.held
        ? fieldsText([
            ['held by', lease.owner],
            ['expires at', `${lease.expiresAt} (in ${durationText(Date.parse(lease.expiresAt ?? '') - now)})`],
          ])
        : 'free',
    ),
    sectionText(
      `Stream ${stream.key}`,
      fieldsText([
        ['length', stream.length],
        ['last id', stream.lastGeneratedId ?? '(no stream)'],
        ['entries behind', `${stream.entriesBehind}${stream.entriesBehindCapped ? '+' : ''}`],
        [
          'oldest behind',
          stream.oldestBehindId === undefined
            ? undefined
            : `${stream.oldestBehindId} (${durationText(stream.oldestBehindAgeMs ?? 0)} old)`,
        ],
        ['offset ahead of stream', stream.offsetAheadOfStream ? 'YES' : 'no'],
      ]),
    ),
    sectionText(`Dead letters ${deadLetters.key}`, fieldsText([['count', deadLetters.count]])),
    sectionText(
      'Last invocation',
      lastInvocation === undefined ? '(none recorded)' : fieldsText(summaryRows(lastInvocation)),
    ),
  ];
  if (offset.pendingRetries.length > 0) {
    blocks.push(
      sectionText(
        'Pending retries',
        tableText(
          [
            ['entryId', 'entry'],
            ['attempts', 'attempts'],
            ['lastError', 'last error'],
          ],
          offset.pendingRetries,
        ),
      ),
    );
  }
  return blocks.join('\n\n');
};

// DynamoDB keeps no order inside a map: show the summary in the handler's order.
const SUMMARY_ORDER = [
  'at',
  'stoppedBy',
  'entriesRead',
  'applied',
  'ignored',
  'invalid',
  'deadLettered',
  'lastEntryId',
];

const summaryRows = (summary: Readonly<Record<string, string | number>>): [string, string | number][] => {
  const rank = (key: string): number => {
    const index = SUMMARY_ORDER.indexOf(key);
    return index < 0 ? SUMMARY_ORDER.length : index;
  };
  return Object.entries(summary).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
};
