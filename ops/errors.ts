/**
 * Exit codes of `npm run ops` and the errors that carry them. Scripts rely on the codes, so
 * they are part of the CLI's contract (docs/operations.md lists them).
 */
import { ConfigError } from '../functions/runtime-job-results/config.js';
import { LeaseLostError, MissingTableError } from '../functions/runtime-job-results/errors.js';
import { isFatal } from '../functions/runtime-job-results/consumer/fatal-errors.js';
import { errorText } from '../functions/runtime-job-results/telemetry/log.js';

export const ExitCode = {
  ok: 0,
  /** A service failed or answered unexpectedly: DynamoDB, Upstash, Secrets Manager, Game Master. */
  operational: 1,
  /** Bad arguments, or a configuration variable missing or malformed. */
  usage: 2,
  /** The command refused to act (id not in the stream, offset moved meanwhile) or was not confirmed. */
  refused: 3,
  /** An invocation of the consumer holds the offset lease. */
  leaseHeld: 4,
  /** The game or stream entry named does not exist. */
  notFound: 5,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the CLI reports as it is: the message says what happened and what to do. */
export class OpsError extends Error {
  readonly exitCode: ExitCode;
  /** Stable, for `--json` consumers. */
  readonly code: string;

  constructor(message: string, exitCode: ExitCode, code: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OpsError';
    this.exitCode = exitCode;
    this.code = code;
  }
}

export class UsageError extends OpsError {
  constructor(message: string) {
    super(message, ExitCode.usage, 'usage');
    this.name = 'UsageError';
  }
}

export class RefusedError extends OpsError {
  constructor(message: string, code = 'refused') {
    super(message, ExitCode.refused, code);
    this.name = 'RefusedError';
  }
}

export class LeaseHeldError extends OpsError {
  readonly owner: string;
  readonly expiresAtMs: number;

  constructor(owner: string, expiresAtMs: number) {
    super(
      `the offset lease is held by ${owner} until ${new Date(expiresAtMs).toISOString()}: ` +
        'it was not handed over within the wait (a following invocation hands over at its next poll; a draining ' +
        'one, or another operator, does not). Run the command again, with a longer --lease-wait, or once it has ' +
        'ended (at most the function timeout).',
      ExitCode.leaseHeld,
      'lease_held',
    );
    this.name = 'LeaseHeldError';
    this.owner = owner;
    this.expiresAtMs = expiresAtMs;
  }
}

export class NotFoundError extends OpsError {
  constructor(message: string) {
    super(message, ExitCode.notFound, 'not_found');
    this.name = 'NotFoundError';
  }
}

/** What the CLI prints and returns for a failed command. */
export interface Failure {
  readonly exitCode: ExitCode;
  readonly code: string;
  readonly message: string;
}

/**
 * Maps any error to an exit code and a message that says what to do. Errors of the
 * consumer's own modules (configuration, missing table, lease) get the advice they need;
 * anything else is an operational error shown with its name.
 */
export const failureOf = (error: unknown): Failure => {
  if (error instanceof OpsError) return { exitCode: error.exitCode, code: error.code, message: error.message };
  if (error instanceof ConfigError) {
    return {
      exitCode: ExitCode.usage,
      code: 'configuration',
      message: `${error.message}. The CLI reads the same variables as the function (docs/operations.md, "Configuration").`,
    };
  }
  if (error instanceof MissingTableError) {
    return { exitCode: ExitCode.operational, code: 'missing_table', message: error.message };
  }
  if (error instanceof LeaseLostError) {
    return {
      exitCode: ExitCode.operational,
      code: 'lease_lost',
      message:
        'the offset lease ran out before the write and an invocation took it; nothing was written. Run the command again.',
    };
  }
  const text = errorText(error);
  // What is left of the consumer's fatal errors: rejected AWS credentials or Upstash token.
  if (isFatal(error)) {
    return {
      exitCode: ExitCode.operational,
      code: 'access_denied',
      message:
        `${text}. Credentials were rejected: check this shell's AWS credentials and region (docs/operations.md, ` +
        '"Permissions") and UPSTASH_REDIS_REST_TOKEN (or the secret behind UPSTASH_REDIS_REST_TOKEN_SECRET_ARN).',
    };
  }
  if (/fetch failed|ECONNREFUSED|ENOTFOUND|TimeoutError|aborted/i.test(text)) {
    return {
      exitCode: ExitCode.operational,
      code: 'unreachable',
      message: `${text}. A service did not answer: check UPSTASH_REDIS_REST_URL, DYNAMODB_ENDPOINT / AWS_REGION and the network.`,
    };
  }
  return { exitCode: ExitCode.operational, code: 'operational', message: text };
};
