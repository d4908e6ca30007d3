/**
 * `replay --from <id> --to <id>`: runs a range of the results stream through the start flow
 * again, without touching the offset. Safe because replays are invisible (docs/contract.md §5.6): every
 * status write is a compare-and-set, and a game that moved on is left as it is. What it
 * changes is what the first pass could not do — a game still `starting` after an outage, an
 * intent left in an outbox.
 */
import { isFatal } from '../../functions/runtime-job-results/consumer/fatal-errors.js';
import { compareEntryIds } from '../../functions/runtime-job-results/domain/entry-id.js';
import { fieldMap } from '../../functions/runtime-job-results/domain/job-result.js';
import type { RawEntry } from '../../functions/runtime-job-results/domain/job-result.js';
import type { EntryOutcome } from '../../functions/runtime-job-results/start-flow/outcome.js';
import { StartFlow } from '../../functions/runtime-job-results/start-flow/start-flow.js';
import { errorText } from '../../functions/runtime-job-results/telemetry/log.js';
import type { Log, LogAttributes } from '../../functions/runtime-job-results/telemetry/log.js';
import type { EntryResult } from '../../functions/runtime-job-results/start-flow/outcome.js';
import type { StartFlowOutcome } from '../../functions/runtime-job-results/telemetry/metric-names.js';
import type { StartFlowTelemetry } from '../../functions/runtime-job-results/telemetry/metrics-recorder.js';
import type { OpsContext } from '../context.js';
import { ExitCode, OpsError, UsageError } from '../errors.js';
import { fieldsText, sectionText, tableText } from '../output.js';
import { rangeBoundArg, StreamView } from '../stream.js';

/** Entries per read, and per publish of their messages (the consumer's default batch). */
const PAGE_SIZE = 100;

/** A transient error, kept for the report; later entries of its game were skipped. */
export interface ReplayFailure {
  readonly entryId: string;
  readonly gameId: string | undefined;
  readonly error: string;
}

export interface ReplayReport {
  readonly from: string;
  readonly to: string;
  readonly entries: number;
  /** Per entry: the consumer's four results, plus `failed` (transient error) and `skipped` (behind a failure of its game). */
  readonly results: Readonly<Record<EntryResult | 'failed' | 'skipped', number>>;
  /** Start flows that ended, as the consumer counts them in `lobby.start_flow.outcomes`. */
  readonly outcomes: Readonly<Record<StartFlowOutcome, number>>;
  /** Messages published: stop jobs are published by the flow itself and not counted here. */
  readonly published: number;
  readonly failures: readonly ReplayFailure[];
}

const isEntryId = (bound: string): boolean => bound !== '-' && bound !== '+';

/** Exit code of a replay: operational error (1) when some entries failed and need another replay. */
export const replayExitCode = (report: ReplayReport): ExitCode =>
  report.failures.length > 0 ? ExitCode.operational : ExitCode.ok;

/** The start flow's log lines, on stderr with `--verbose`, dropped otherwise. */
const opsLog = (ctx: OpsContext): Log => {
  const write =
    (level: string) =>
    (message: string, attributes: LogAttributes): void => {
      if (ctx.verbose) ctx.output.notice(JSON.stringify({ level, message, ...attributes }));
    };
  return { debug: write('DEBUG'), info: write('INFO'), warn: write('WARN'), error: write('ERROR') };
};

export const replay = async (ctx: OpsContext, options: { from: string; to: string }): Promise<ReplayReport> => {
  const from = rangeBoundArg(options.from, '--from');
  const to = rangeBoundArg(options.to, '--to');
  if (isEntryId(from) && isEntryId(to) && compareEntryIds(from, to) > 0) {
    throw new UsageError(`--from ${from} is after --to ${to}`);
  }
  const { config, games, gameMaster, publisher, redis } = ctx.dependencies;
  const results = new StreamView(redis, config.streams.results, ctx.dependencies.bounds.upstash);
  const counts = { applied: 0, ignored: 0, invalid: 0, dead_lettered: 0, failed: 0, skipped: 0 };
  const outcomes = { running: 0, paused: 0, start_failed: 0 };
  const telemetry: StartFlowTelemetry = { transition: () => undefined, outcome: (name) => (outcomes[name] += 1) };
  const flow = new StartFlow({
    games,
    gameMaster,
    publisher,
    streams: config.streams,
    log: opsLog(ctx),
    telemetry,
    nowMs: ctx.nowMs,
  });
  const failures: ReplayFailure[] = [];
  // Like the consumer: once an entry of a game fails, its later entries wait (order per game).
  const blockedGames = new Set<string>();
  let entries = 0;
  let published = 0;

  const progress = ctx.output.progress(await results.countBetween(from, to), 'replay');
  try {
    for await (const page of results.pages(from, to, PAGE_SIZE)) {
      const done: EntryOutcome[] = [];
      for (const entry of page) {
        entries += 1;
        const gameId = fieldMap(entry).get('game_id');
        if (gameId !== undefined && blockedGames.has(gameId)) {
          counts.skipped += 1;
        } else {
          const outcome = await processOne(flow, entry, gameId);
          if ('error' in outcome) {
            counts.failed += 1;
            failures.push(outcome);
            if (gameId !== undefined) blockedGames.add(gameId);
          } else {
            counts[outcome.result] += 1;
            done.push(outcome);
          }
        }
        progress.increment();
      }
      published += await publishPage(ctx, page, done);
    }
  } finally {
    progress.stop();
  }

  const report: ReplayReport = { from, to, entries, results: counts, outcomes, published, failures };
  ctx.output.result(report, () => replayText(report));
  return report;
};

/** One entry: its outcome, or the transient error it failed with. Fatal errors stop the replay. */
const processOne = async (
  flow: StartFlow,
  entry: RawEntry,
  gameId: string | undefined,
): Promise<EntryOutcome | ReplayFailure> => {
  try {
    return await flow.process(entry);
  } catch (error) {
    if (isFatal(error)) throw error;
    return { entryId: entry.id, gameId, error: errorText(error) };
  }
};

/** Publishes a page's intents and dead letters in one request, then clears the outboxes (as the consumer does). */
const publishPage = async (
  ctx: OpsContext,
  page: readonly RawEntry[],
  done: readonly EntryOutcome[],
): Promise<number> => {
  const messages = done.flatMap((outcome) => outcome.messages);
  if (messages.length === 0) return 0;
  try {
    await ctx.dependencies.publisher.publish(messages);
  } catch (error) {
    throw new OpsError(
      `publishing the messages of entries ${page[0]?.id} to ${page.at(-1)?.id} failed (${errorText(error)}). ` +
        `Replay again from ${page[0]?.id}: outboxes keep paused intents until they are published.`,
      ExitCode.operational,
      'publish_failed',
      { cause: error },
    );
  }
  for (const { gameId, marker, sourceEntryId } of done.flatMap((outcome) => outcome.markersToClear)) {
    await ctx.dependencies.games.clearMarker(gameId, marker, sourceEntryId).catch((error: unknown) => {
      ctx.output.notice(
        `warning: could not clear ${marker} of entry ${sourceEntryId} from ${gameId}: ${errorText(error)}`,
      );
    });
  }
  return messages.length;
};

const replayText = (report: ReplayReport): string => {
  const blocks = [
    sectionText(
      `Replayed ${report.entries} entries from ${report.from} to ${report.to} (offset unchanged)`,
      fieldsText(Object.entries(report.results)),
    ),
    sectionText('Start flows ended', fieldsText(Object.entries(report.outcomes))),
    `messages published: ${report.published}`,
  ];
  if (report.failures.length > 0) {
    blocks.push(
      sectionText(
        'Failed (transient; replay again later from the first one)',
        tableText(
          [
            ['entryId', 'entry'],
            ['gameId', 'game'],
            ['error', 'error'],
          ],
          report.failures,
        ),
      ),
    );
  }
  return blocks.join('\n\n');
};
