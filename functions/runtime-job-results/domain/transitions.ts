import { GameStatus, TransitionTrigger } from './game.js';
import { InvalidTransitionError } from '../errors.js';

/** One allowed status change. */
export interface Transition {
  readonly from: GameStatus;
  readonly to: GameStatus;
  readonly trigger: TransitionTrigger;
}

/**
 * The status changes this consumer may perform (docs/contract.md §3.2). Everything else is
 * rejected before any write, as the Go worker's domain did.
 */
const allowedTransitions: readonly Transition[] = [
  { from: GameStatus.starting, to: GameStatus.running, trigger: TransitionTrigger.runtimeEvent },
  { from: GameStatus.starting, to: GameStatus.paused, trigger: TransitionTrigger.runtimeEvent },
  { from: GameStatus.starting, to: GameStatus.startFailed, trigger: TransitionTrigger.runtimeEvent },
];

/** Throws {@link InvalidTransitionError} unless the table allows `from → to` for `trigger`. */
export const assertTransitionAllowed = (transition: Transition): void => {
  const allowed = allowedTransitions.some(
    (row) => row.from === transition.from && row.to === transition.to && row.trigger === transition.trigger,
  );
  if (!allowed) throw new InvalidTransitionError(transition);
};
