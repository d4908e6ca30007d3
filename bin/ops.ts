#!/usr/bin/env node
/**
 * `npm run ops -- <command>` (the package's `galaxy-start-flow-ops`): the operator CLI of the
 * start-flow consumer. This file only wires commander to the commands in `ops/`; it is the
 * one place that reads `process.env` (the same variables as the function), or, with
 * `--function`, takes them from the deployed function. Reference: docs/operations.md.
 */
import '../scripts/support/quiet-sdk-node-warning.js';
import { hostname, userInfo } from 'node:os';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { deadLettersList, deadLettersPurge, deadLettersRequeue } from '../ops/commands/dead-letters.js';
import { gameShow } from '../ops/commands/game.js';
import { offsetReset, offsetSet, offsetShow } from '../ops/commands/offset.js';
import { replay, replayExitCode } from '../ops/commands/replay.js';
import { status } from '../ops/commands/status.js';
import { terminalConfirm } from '../ops/confirm.js';
import { operatorName } from '../ops/context.js';
import { ExitCode } from '../ops/errors.js';
import { functionEnvironment, lambdaClient } from '../ops/function-environment.js';
import { DEFAULT_LEASE_WAIT_MS } from '../ops/lease.js';
import { runCommand } from '../ops/run-command.js';
import type { Command as OpsCommand, GlobalOptions } from '../ops/run-command.js';

const EXIT_CODES = `
Exit codes:
  0  ok
  1  operational error (DynamoDB, Upstash, Secrets Manager or Game Master failed; a replay left failed entries)
  2  usage or configuration error
  3  refused or not confirmed (nothing changed)
  4  the offset lease is held by a running invocation (nothing changed)
  5  not found (game, dead letter)

Configuration: --function <name> reads it from the deployed function (tokens from Secrets
Manager); without it, the function's variables from this shell (UPSTASH_REDIS_REST_URL,
UPSTASH_REDIS_REST_TOKEN or UPSTASH_REDIS_REST_TOKEN_SECRET_ARN, GAMES_TABLE, OFFSETS_TABLE,
GM_BASE_URL, AWS_REGION, ...). See docs/operations.md and docs/runbook.md.`;

/** The global options that say where the configuration and the credentials come from. */
interface SourceOptions {
  readonly function?: string;
  readonly region?: string;
  readonly profile?: string;
}

const currentUser = (): string => {
  try {
    return userInfo().username;
  } catch {
    // No passwd entry (some containers): the lease owner still says where it came from.
    return 'unknown';
  }
};

const wholeNumber = (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a whole number above 0');
  return Number(value);
};

const seconds = (value: string): number => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number of seconds, 0 or more');
  return Number(value);
};

/** How long `offset set` and `offset reset` wait for a held lease, asking a follower to hand it over. */
const leaseWaitOption = [
  '--lease-wait <seconds>',
  'wait this long for a held offset lease, asking a following invocation to hand it over (0: fail at once)',
  seconds,
  DEFAULT_LEASE_WAIT_MS / 1_000,
] as const;

const program = new Command('ops')
  .description('Inspect and steer the start-flow consumer (runtime:job_results) on the local stack or in AWS.')
  .option('--json', 'print the result as JSON, for scripts')
  .option('-v, --verbose', 'also print the start flow log lines (replay)')
  .option('--function <name>', "take the configuration from this deployed function's variables")
  .option('--region <region>', 'AWS region (sets AWS_REGION)')
  .option('--profile <profile>', 'AWS profile of the credentials (sets AWS_PROFILE)')
  .addHelpText('after', EXIT_CODES)
  .showHelpAfterError('(add --help for usage)')
  .exitOverride();

/** A commander action that runs the command its arguments make, with the CLI's I/O, and sets the exit code. */
const action =
  <A extends unknown[], T>(command: (...args: A) => OpsCommand<T>, exitCodeOf?: (result: T) => ExitCode) =>
  async (...args: A): Promise<void> => {
    const { function: functionName, region, profile } = program.opts<GlobalOptions & SourceOptions>();
    // The SDK reads both from the process environment: the function lookup and every client
    // the runtime builds.
    if (region !== undefined) process.env.AWS_REGION = region;
    if (profile !== undefined) process.env.AWS_PROFILE = profile;
    process.exitCode = await runCommand(
      functionName === undefined ? process.env : () => functionEnvironment(lambdaClient(), functionName),
      {
        stdout: process.stdout,
        stderr: process.stderr,
        ...(process.stderr.isTTY ? { progressStream: process.stderr } : {}),
        confirm: terminalConfirm(process.stdin, process.stderr),
        operator: operatorName(currentUser(), hostname()),
      },
      program.opts<GlobalOptions>(),
      command(...args),
      exitCodeOf,
    );
  };

program
  .command('status')
  .description('offset, lease, stream length and backlog, dead letters, last invocation')
  .action(action(() => status));

const offset = program.command('offset').description("the consumer's position in the results stream");
offset
  .command('show')
  .description('the offset, whether its entry is still in the stream, entries behind it')
  .action(action(() => offsetShow));
offset
  .command('set')
  .description('move the offset to an entry of the stream (fenced by the lease, asks first)')
  .argument('<id>', 'stream entry id <ms>-<seq>')
  .option('-y, --yes', 'do not ask for confirmation')
  .option('--force', 'accept an id that is not in the stream')
  .option(...leaseWaitOption)
  .action(
    action(
      (id: string, options: { yes?: boolean; force?: boolean; leaseWait: number }) => (ctx) =>
        offsetSet(ctx, id, { ...options, leaseWaitMs: options.leaseWait * 1_000 }),
    ),
  );
offset
  .command('reset')
  .description('move the offset back to 0-0: the whole stream is processed again (invisible, but costs requests)')
  .option('-y, --yes', 'do not ask for confirmation')
  .option(...leaseWaitOption)
  .action(
    action(
      (options: { yes?: boolean; leaseWait: number }) => (ctx) =>
        offsetReset(ctx, { ...options, leaseWaitMs: options.leaseWait * 1_000 }),
    ),
  );

const deadLetters = program.command('dead-letters').description('entries the consumer gave up on');
deadLetters
  .command('list')
  .description('the oldest dead letters and how many there are')
  .option('-n, --limit <n>', 'how many to show', wholeNumber, 20)
  .action(action((options: { limit: number }) => (ctx) => deadLettersList(ctx, options)));
deadLetters
  .command('requeue')
  .description('put dead letters back on the results stream (with requeued_from) and delete them')
  .argument('[ids...]', 'dead-letter entry ids')
  .option('--all', 'every dead letter')
  .action(action((ids: string[], options: { all?: boolean }) => (ctx) => deadLettersRequeue(ctx, ids, options)));
deadLetters
  .command('purge')
  .description('delete the dead letters older than an id (asks first)')
  .requiredOption('--before <id>', 'dead letters with a smaller id are deleted')
  .option('-y, --yes', 'do not ask for confirmation')
  .action(
    action((options: { before: string; yes?: boolean }) => (ctx) => deadLettersPurge(ctx, options.before, options)),
  );

program
  .command('replay')
  .description('run a range of the results stream through the start flow again; the offset does not move')
  .requiredOption('--from <id>', 'first entry id (inclusive), or - for the start')
  .requiredOption('--to <id>', 'last entry id (inclusive), or + for the end')
  .action(action((options: { from: string; to: string }) => (ctx) => replay(ctx, options), replayExitCode));

const game = program.command('game').description('games in the games table');
game
  .command('show')
  .description('the record, its runtime binding, last transition and pending intent')
  .argument('<gameId>')
  .action(action((gameId: string) => (ctx) => gameShow(ctx, gameId)));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Commander has printed its message (or the help); only the exit code is left to set.
  if (!(error instanceof CommanderError)) throw error;
  process.exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
}
