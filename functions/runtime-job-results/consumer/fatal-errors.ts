import { AWS_ACCESS_ERRORS } from '../adapters/conditional-write.js';
import { GameMasterAuthError, LeaseLostError, MissingTableError } from '../adapters/errors.js';
import { errorText } from '../telemetry/log.js';

/** Redis/Upstash replies that mean the token is wrong or lacks rights. */
const UPSTASH_AUTH_ERROR = /\b(WRONGPASS|NOAUTH|NOPERM)\b/;

/**
 * Errors that stop the whole invocation rather than count as an attempt of one entry:
 * a missing table or a wrong token would otherwise dead-letter every entry it touched after
 * `MAX_ATTEMPTS` tries (or, for Game Master's token, pause every game it started). The offset
 * stays where it is and the invocation fails loudly, so the Lambda error alarm fires
 * (docs/contract.md §5.10).
 */
export const isFatal = (error: unknown): boolean => {
  if (error instanceof MissingTableError || error instanceof LeaseLostError || error instanceof GameMasterAuthError) {
    return true;
  }
  if (!(error instanceof Error)) return false;
  return AWS_ACCESS_ERRORS.has(error.name) || UPSTASH_AUTH_ERROR.test(error.message);
};

/** The invocation stopped on an error that is not about one entry; `cause` says which. */
export class InvocationFailedError extends Error {
  constructor(stage: string, cause: unknown) {
    super(`${stage}: ${errorText(cause)}`, { cause });
    this.name = 'InvocationFailedError';
  }
}
