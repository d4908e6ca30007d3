/**
 * Runs one command the way the CLI does: connect with the consumer's configuration, run,
 * turn any error into a message and an exit code, close. `bin/ops.ts` calls it for every
 * command; tests call it with array-backed sinks.
 */
import { connect } from './context.js';
import type { EnvSource, OpsContext } from './context.js';
import { ExitCode, failureOf } from './errors.js';
import { StreamOutput } from './output.js';
import type { TextSink } from './output.js';

/** Where a command reads and writes, and who runs it. */
export interface CommandIo {
  readonly stdout: TextSink;
  readonly stderr: TextSink;
  /** A terminal's stderr, for progress bars; none turns them off. */
  readonly progressStream?: NodeJS.WritableStream;
  readonly confirm: (question: string) => Promise<boolean>;
  /** Lease owner name, see `operatorName`. */
  readonly operator: string;
}

/** Options every command accepts. */
export interface GlobalOptions {
  readonly json?: boolean;
  readonly verbose?: boolean;
}

/** A command: runs against the context and returns what it printed. */
export type Command<T> = (ctx: OpsContext) => Promise<T>;

/**
 * Resolves to the exit code, never throws: `exitCodeOf` the result when the command
 * succeeded (0 unless given), the error's code otherwise.
 */
export const runCommand = async <T>(
  env: EnvSource,
  io: CommandIo,
  options: GlobalOptions,
  command: Command<T>,
  exitCodeOf: (result: T) => ExitCode = () => ExitCode.ok,
): Promise<ExitCode> => {
  const output = new StreamOutput({
    json: options.json === true,
    stdout: io.stdout,
    stderr: io.stderr,
    ...(io.progressStream === undefined ? {} : { progressStream: io.progressStream }),
  });
  let ctx: Awaited<ReturnType<typeof connect>> | undefined;
  try {
    ctx = await connect(env, { output, operator: io.operator, confirm: io.confirm, verbose: options.verbose === true });
    return exitCodeOf(await command(ctx));
  } catch (error) {
    const failure = failureOf(error);
    io.stderr.write(`error: ${failure.message}\n`);
    // Scripts reading stdout get a document either way.
    if (output.json) io.stdout.write(`${JSON.stringify({ error: failure }, null, 2)}\n`);
    return failure.exitCode;
  } finally {
    ctx?.close();
  }
};
