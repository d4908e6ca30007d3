/**
 * One soak: build the scenario, run it quietly in this process, run it again in killed
 * child processes through the fault proxies, and compare. Used by `npm run soak` (on a
 * stack of its own) and by test/reliability/soak.test.ts (on the test run's stack).
 */
import type { FaultPlanOptions } from '../local/fault-plan.js';
import { compareRuns, duplicateCounts } from './compare.js';
import type { Mismatch } from './compare.js';
import { runCrashes } from './crash-run.js';
import type { CrashRunFigures, CrashRunOptions } from './crash-run.js';
import { createGamesTap } from './games-tap.js';
import { runReference } from './reference-run.js';
import type { ReferenceFigures } from './reference-run.js';
import { prepareRun } from './run-resources.js';
import type { SoakStack } from './run-resources.js';
import { collectRunState } from './run-state.js';
import { buildScenario, GameCase } from './scenario.js';

export interface SoakOptions extends Omit<CrashRunOptions, 'faults'> {
  readonly results: number;
  readonly faults: Omit<FaultPlanOptions, 'seed'>;
}

/**
 * Default fault rates, per request. DynamoDB faults are mostly absorbed by the SDK's own
 * retries (three attempts), so they are set high enough that some reach the consumer's.
 */
const DEFAULT_FAULTS: Omit<FaultPlanOptions, 'seed'> = {
  dynamodb: { throttling: 0.05, serverError: 0.02, serverErrorAfterApply: 0.01, dropped: 0.02, latency: 0.05 },
  upstash: { serverError: 0.02, malformed: 0.01, dropped: 0.02, droppedAfterApply: 0.01, latency: 0.05 },
  latencyMs: { min: 10, max: 80 },
};

/** `--follow`: kills right after an ask (apart from `kills`), the holder and the asker in turn. */
export const DEFAULT_ASK_KILLS = 6;

export const DEFAULT_SOAK_OPTIONS: SoakOptions = {
  results: 3_000,
  kills: 30,
  seed: 1,
  invokeTimeoutMs: 8_000,
  timeBudgetMarginMs: 3_000,
  faults: DEFAULT_FAULTS,
  overlapChance: 0.2,
  maxWallMs: 20 * 60_000,
};

export interface SoakReport {
  readonly options: SoakOptions;
  readonly entries: number;
  readonly games: Readonly<Record<string, number>>;
  readonly expectedDeadLetters: number;
  readonly reference: ReferenceFigures;
  readonly crash: CrashRunFigures;
  /** Game Master registrations in the crash run beyond the quiet run's. */
  readonly repeatedGameMasterCalls: number;
  readonly duplicates: ReturnType<typeof duplicateCounts>;
  /** Game items still holding an outbox intent at the end of the crash run. */
  readonly markersLeft: { readonly intents: number };
  readonly mismatches: readonly Mismatch[];
  readonly wallMs: number;
}

export const runSoak = async (stack: SoakStack, options: SoakOptions): Promise<SoakReport> => {
  const started = Date.now();
  const scenario = buildScenario(options.results, options.seed);
  const gamesOf = (gameCase: GameCase): Set<string> =>
    new Set(scenario.games.filter((game) => game.case === gameCase).map((game) => game.gameId));
  const orphans = gamesOf(GameCase.orphan);
  const cancelled = gamesOf(GameCase.cancelled);

  const quietRun = await prepareRun(stack, scenario, 'quiet');
  const crashRun = await prepareRun(stack, scenario, 'crash');
  try {
    const quietTap = createGamesTap({
      documents: quietRun.documents,
      gamesTable: quietRun.gamesTable,
      orphanGameIds: orphans,
      cancelledGameIds: cancelled,
    });
    const reference = await runReference(quietRun, quietTap, scenario);
    const quiet = await collectRunState(quietRun, quietTap);

    const crashTap = createGamesTap({
      documents: crashRun.documents,
      gamesTable: crashRun.gamesTable,
      orphanGameIds: orphans,
      cancelledGameIds: cancelled,
    });
    const crash = await runCrashes(crashRun, crashTap, scenario, stack.upstashUrl, options);
    const crashed = await collectRunState(crashRun, crashTap);

    const mismatches = compareRuns(scenario, quiet, crashed);
    if (!crash.drained)
      mismatches.push({
        check: 'drain',
        detail: `the crash run did not drain the stream within ${options.maxWallMs} ms`,
      });
    const calls = (state: typeof quiet): number =>
      [...state.gameMasterKeys.values()].reduce((sum, keys) => sum + keys.length, 0);
    const games: Record<string, number> = {};
    for (const game of scenario.games) games[game.case] = (games[game.case] ?? 0) + 1;
    return {
      options,
      entries: scenario.entries.length,
      games,
      expectedDeadLetters: scenario.entries.filter((entry) => entry.deadLetterReason !== undefined).length,
      reference,
      crash,
      repeatedGameMasterCalls: calls(crashed) - calls(quiet),
      duplicates: duplicateCounts(crashed),
      markersLeft: {
        intents: [...crashed.games.values()].filter((game) => game.pendingIntent !== undefined).length,
      },
      mismatches,
      wallMs: Date.now() - started,
    };
  } finally {
    await Promise.allSettled([quietRun.cleanup(), crashRun.cleanup()]);
  }
};
