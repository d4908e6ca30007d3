/**
 * The soak's verdict: the crash run must end where the quiet run of the same scenario ends,
 * and both where the scenario says. Each difference is a {@link Mismatch}.
 */
import type { RunState, StreamMessage } from './run-state.js';
import type { Scenario } from './scenario.js';
import { GameCase } from './scenario.js';

export interface Mismatch {
  readonly check: string;
  readonly detail: string;
  readonly gameId?: string;
}

const byGame = (
  messages: readonly StreamMessage[],
  gameOf: (message: StreamMessage) => string | undefined,
): Map<string, StreamMessage[]> => {
  const map = new Map<string, StreamMessage[]>();
  for (const message of messages) {
    const gameId = gameOf(message);
    if (gameId === undefined) continue;
    map.set(gameId, [...(map.get(gameId) ?? []), message]);
  }
  return map;
};

const intentGame = (message: StreamMessage): string | undefined => {
  try {
    const payload = JSON.parse(message.fields.payload_json ?? '{}') as { game_id?: unknown };
    return typeof payload.game_id === 'string' ? payload.game_id : undefined;
  } catch {
    return undefined;
  }
};

/** Dead-letter reasons by source entry id (a replay may repeat a dead letter; the reason must agree). */
const deadLetterReasons = (state: RunState): Map<string, Set<string>> => {
  const reasons = new Map<string, Set<string>>();
  for (const message of state.deadLetters) {
    const source = message.fields.dead_letter_source_id ?? '';
    reasons.set(source, new Set([...(reasons.get(source) ?? []), message.fields.dead_letter_reason ?? '']));
  }
  return reasons;
};

const same = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().every((value, index) => value === [...b].sort()[index]);

/** Every difference between the crash run, the quiet run and the scenario. */
export const compareRuns = (scenario: Scenario, quiet: RunState, crashed: RunState): Mismatch[] => {
  const mismatches: Mismatch[] = [];
  const add = (mismatch: Mismatch): void => {
    mismatches.push(mismatch);
  };

  const quietStops = byGame(quiet.stopJobs, (m) => m.fields.game_id);
  const crashStops = byGame(crashed.stopJobs, (m) => m.fields.game_id);
  const quietIntents = byGame(quiet.intents, intentGame);
  const crashIntents = byGame(crashed.intents, intentGame);

  for (const game of scenario.games) {
    const { gameId } = game;
    const quietGame = quiet.games.get(gameId);
    const crashGame = crashed.games.get(gameId);
    if (quietGame?.status !== game.expectedStatus) {
      add({
        check: 'scenario',
        gameId,
        detail: `quiet run ended ${String(quietGame?.status)}, scenario says ${String(game.expectedStatus)}`,
      });
    }
    if (crashGame?.status !== quietGame?.status) {
      add({
        check: 'final status',
        gameId,
        detail: `crash run ${String(crashGame?.status)}, quiet run ${String(quietGame?.status)}`,
      });
    }

    const quietCount = quiet.transitions.get(gameId) ?? 0;
    const crashCount = crashed.transitions.get(gameId) ?? 0;
    if (crashCount > 1)
      add({ check: 'transition applied twice', gameId, detail: `${crashCount} status changes applied` });
    else if (crashCount !== quietCount) {
      add({ check: 'transitions', gameId, detail: `crash run applied ${crashCount}, quiet run ${quietCount}` });
    }

    // Paused: the intent out at least once, always under the quiet run's one key.
    const expectedKeys = [...new Set((quietIntents.get(gameId) ?? []).map((m) => m.fields.idempotency_key ?? ''))];
    const crashKeys = [...new Set((crashIntents.get(gameId) ?? []).map((m) => m.fields.idempotency_key ?? ''))];
    if (game.case === GameCase.paused && expectedKeys.length !== 1) {
      add({
        check: 'scenario',
        gameId,
        detail: `quiet run published ${expectedKeys.length} intent keys for a paused game`,
      });
    }
    if (!same(expectedKeys, crashKeys)) {
      const stuck = crashGame?.pendingIntent !== undefined ? '; an intent is still in the game outbox' : '';
      add({
        check: 'paused intent',
        gameId,
        detail: `crash run keys [${crashKeys.join(', ')}], quiet run [${expectedKeys.join(', ')}]${stuck}`,
      });
    }

    // Orphans: the stop job out at least once, from the same entry.
    const expectedSources = [...new Set((quietStops.get(gameId) ?? []).map((m) => m.fields.source_entry_id ?? ''))];
    const crashSources = [...new Set((crashStops.get(gameId) ?? []).map((m) => m.fields.source_entry_id ?? ''))];
    if (game.case === GameCase.cancelled && expectedSources.length !== 0) {
      add({
        check: 'scenario',
        gameId,
        detail: `quiet run published ${expectedSources.length} stop jobs for a game cancelled before its binding`,
      });
    }
    if (game.case === GameCase.orphan && expectedSources.length !== 1) {
      add({
        check: 'scenario',
        gameId,
        detail: `quiet run published ${expectedSources.length} stop jobs for an orphan`,
      });
    }
    if (!same(expectedSources, crashSources)) {
      add({
        check: 'orphan stop job',
        gameId,
        detail: `crash run sources [${crashSources.join(', ')}], quiet run [${expectedSources.join(', ')}]`,
      });
    }

    // Game Master may be called again after a crash, but only ever for the same entry.
    const expectedGmKeys = [...new Set(quiet.gameMasterKeys.get(gameId) ?? [])];
    const crashGmKeys = [...new Set(crashed.gameMasterKeys.get(gameId) ?? [])];
    if (!same(expectedGmKeys, crashGmKeys)) {
      add({
        check: 'game master idempotency key',
        gameId,
        detail: `crash run [${crashGmKeys.join(', ')}], quiet run [${expectedGmKeys.join(', ')}]`,
      });
    }
  }

  // Dead letters: exactly the invalid entries and unknown games, each with its reason.
  const expectedDead = new Map(
    scenario.entries.flatMap((entry) => (entry.deadLetterReason ? [[entry.id, entry.deadLetterReason] as const] : [])),
  );
  for (const [label, state] of [
    ['quiet', quiet],
    ['crash', crashed],
  ] as const) {
    const reasons = deadLetterReasons(state);
    for (const [entryId, reason] of expectedDead) {
      const found = [...(reasons.get(entryId) ?? [])];
      if (found.length !== 1 || found[0] !== reason) {
        add({
          check: 'dead letter',
          detail: `${label} run: entry ${entryId} dead-lettered as [${found.join(', ')}], expected ${reason}`,
        });
      }
    }
    for (const [entryId, found] of reasons) {
      if (!expectedDead.has(entryId)) {
        add({
          check: 'dead letter',
          detail: `${label} run: entry ${entryId} dead-lettered as [${[...found].join(', ')}], expected none`,
        });
      }
    }
    if (state.offset?.lastEntryId !== scenario.lastEntryId) {
      add({
        check: 'offset',
        detail: `${label} run offset ${String(state.offset?.lastEntryId)}, stream ends at ${scenario.lastEntryId}`,
      });
    }
  }
  return mismatches;
};

/** Messages beyond the first of each kind: what at-least-once delivery cost in duplicates. */
export const duplicateCounts = (state: RunState): { stopJobs: number; intents: number; deadLetters: number } => {
  const extra = (messages: readonly StreamMessage[], key: (m: StreamMessage) => string): number =>
    messages.length - new Set(messages.map(key)).size;
  return {
    stopJobs: extra(state.stopJobs, (m) => m.fields.source_entry_id ?? ''),
    intents: extra(state.intents, (m) => m.fields.idempotency_key ?? ''),
    deadLetters: extra(state.deadLetters, (m) => m.fields.dead_letter_source_id ?? ''),
  };
};
