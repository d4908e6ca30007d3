/**
 * Where one entry of a batch stands, and how its tries are counted: the one record that the
 * offset, the retry bookkeeping and the invocation's counts all read.
 */
import type { EntryAttempts } from '../ports.js';
import type { EntryOutcome } from '../start-flow/outcome.js';
import { StopJobNotPublishedError } from '../start-flow/start-flow.js';
import { errorText } from '../telemetry/log.js';

export type EntryState =
  /** Processed: its outcome is decided, its messages not yet published. Only until publishing. */
  | { readonly kind: 'decided'; readonly outcome: EntryOutcome; readonly attempts?: EntryAttempts }
  /** Decided and its messages are out (or given up after `MAX_ATTEMPTS`): counted once. */
  | { readonly kind: 'done'; readonly outcome: EntryOutcome }
  /** Finished by an earlier invocation and recorded above the offset: skipped, counted nowhere. */
  | { readonly kind: 'finished_earlier' }
  /** Failed transiently, or its messages could not be published: the offset must not pass it. */
  | { readonly kind: 'failed'; readonly attempts: EntryAttempts }
  /** Not tried: behind a failed entry of its game, or out of time, or halted by a fatal error. */
  | { readonly kind: 'not_started' };

/** True when nothing is left to do for the entry: the offset may pass it. */
export const isFinished = (state: EntryState): boolean => state.kind === 'done' || state.kind === 'finished_earlier';

/** Longest error kept with an entry's attempts (in the offset item, and in its dead letter). */
const MAX_ERROR_BYTES = 512;

/**
 * The entry's attempts after one more failed try. Every try counts, in processing and in
 * publishing alike, except a publish during an outage (`counted: false`): waiting out an
 * outage must not use up an entry's tries.
 */
export const countAttempt = (prior: EntryAttempts | undefined, error: unknown, counted = true): EntryAttempts => {
  const pendingStopJob = prior?.pendingStopJob === true || error instanceof StopJobNotPublishedError;
  return {
    attempts: (prior?.attempts ?? 0) + (counted ? 1 : 0),
    lastError: errorText(error, MAX_ERROR_BYTES),
    ...(pendingStopJob ? { pendingStopJob } : {}),
    ...(prior?.givingUp === true ? { givingUp: true } : {}),
  };
};

/**
 * True once an entry has used its tries and is not already being finished: it is given up
 * now. An entry that owes an orphan its stop job, or whose give-up has begun, is never given
 * up (again): it is retried until that is done, and the lag alarm fires meanwhile.
 */
export const isExhausted = (attempts: EntryAttempts, maxAttempts: number): boolean =>
  attempts.attempts >= maxAttempts && attempts.pendingStopJob !== true && attempts.givingUp !== true;
