import {
  AccessRefusedError,
  ConsumerError,
  DeadlineReachedError,
  GameMasterAuthError,
  LeaseLostError,
  MissingTableError,
} from '../errors.js';
import { errorText } from '../telemetry/log.js';

/**
 * Errors that stop the whole invocation rather than count as an attempt of one entry:
 * a missing table or refused credentials would otherwise dead-letter every entry it touched
 * after `MAX_ATTEMPTS` tries (or, for Game Master's token, pause every game it started). The
 * offset stays where it is and the invocation fails loudly, so the Lambda error alarm fires
 * (docs/contract.md §5.10).
 * A request cut at the invocation's deadline ends the invocation too: nothing more can be
 * done in the time left.
 *
 * Decided on the ports' error types only, which the adapters have already translated from
 * their dependency's answer, never on a message: an error's text can carry a stream entry's
 * data, and an entry must not be able to stop the consumer by containing a word.
 */
export const isFatal = (error: unknown): boolean => {
  // An error raised because of another (a stop job not published because Upstash refused
  // the token) is as fatal as its cause.
  for (let current = error, depth = 0; current instanceof Error && depth < MAX_CAUSE_DEPTH; depth += 1) {
    if (isFatalItself(current)) return true;
    current = current.cause;
  }
  return false;
};

/** How far down a chain of causes {@link isFatal} looks. */
const MAX_CAUSE_DEPTH = 5;

const isFatalItself = (error: Error): boolean =>
  error instanceof MissingTableError ||
  error instanceof AccessRefusedError ||
  error instanceof LeaseLostError ||
  error instanceof GameMasterAuthError ||
  error instanceof DeadlineReachedError;

/** The invocation stopped on an error that is not about one entry; `cause` says which. */
export class InvocationFailedError extends ConsumerError {
  constructor(stage: string, cause: unknown) {
    super(`${stage}: ${errorText(cause)}`, { cause, context: { stage } });
    this.name = 'InvocationFailedError';
  }
}
