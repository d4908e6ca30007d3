/**
 * The final state a backlog must produce, derived from how it was built: a check that a
 * mode is right, not only that both modes agree (they could agree on being wrong).
 */
import { GameStatus } from '../functions/runtime-job-results/domain/game.js';
import { pausedIntentKey } from '../functions/runtime-job-results/start-flow/messages.js';
import { EntryKind } from './backlog.js';
import type { Backlog } from './backlog.js';
import type { ComparableState } from './final-state.js';

/**
 * Each game's one original result decides its status (a duplicate changes nothing); a
 * success whose registration fails pauses the game and sends one intent keyed by that entry;
 * each invalid entry is dead-lettered under its rule; no container is orphaned.
 */
export const expectedFinalState = (backlog: Backlog): ComparableState => {
  const failing = new Set(backlog.games.filter((game) => game.gameMasterFails).map((game) => game.gameId));
  const statuses: Record<string, string> = {};
  for (const game of backlog.games) statuses[game.gameId] = GameStatus.starting;
  const intents: Record<string, string> = {};
  const deadLetters: Record<string, number[]> = {};
  backlog.entries.forEach((entry, index) => {
    if (entry.kind === EntryKind.invalid) {
      const rule = entry.invalidRule ?? '';
      deadLetters[rule] = [...(deadLetters[rule] ?? []), index];
      return;
    }
    if (entry.gameId === undefined || entry.kind === EntryKind.duplicate) return;
    if (entry.kind === EntryKind.failure) {
      statuses[entry.gameId] = GameStatus.startFailed;
    } else if (failing.has(entry.gameId)) {
      statuses[entry.gameId] = GameStatus.paused;
      intents[pausedIntentKey(`#${index}`)] = entry.gameId;
    } else {
      statuses[entry.gameId] = GameStatus.running;
    }
  });
  return { statuses, pendingIntents: 0, stopJobs: [], intents, deadLetters };
};
