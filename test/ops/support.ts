/**
 * Runs ops commands in-process against a consumer harness, the way `bin/ops.ts` does
 * (`runCommand` with the harness's environment), capturing stdout, stderr and questions.
 */
import { PassThrough } from 'node:stream';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CONSUMER_LABEL } from '../../functions/runtime-job-results/adapters/dynamodb-offset-store.js';
import type { ExitCode } from '../../ops/errors.js';
import { runCommand } from '../../ops/run-command.js';
import type { Command } from '../../ops/run-command.js';
import type { OpsContext } from '../../ops/context.js';
import type { Harness } from '../support/consumer-harness.js';

export interface RunOptions<T> {
  readonly json?: boolean;
  readonly verbose?: boolean;
  /** The operator's answer, or a function of the question (it may act meanwhile). */
  readonly answer?: boolean | ((question: string) => Promise<boolean>);
  /** Turn progress bars on, written to `Run.progress`. */
  readonly progress?: boolean;
  readonly exitCodeOf?: (result: T) => ExitCode;
}

export interface Run<T> {
  readonly code: ExitCode;
  /** What the command returned; undefined when it failed. */
  readonly result: T | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly questions: readonly string[];
  readonly progress: string;
}

export const OPERATOR = 'ops:tester@test-host';

/** Runs `command` with the harness's environment and array-backed sinks. */
export const runOps = async <T>(h: Harness, command: Command<T>, options: RunOptions<T> = {}): Promise<Run<T>> => {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const questions: string[] = [];
  const progress: Buffer[] = [];
  const progressStream = options.progress === true ? new PassThrough() : undefined;
  progressStream?.on('data', (chunk: Buffer) => progress.push(chunk));
  let result: T | undefined;
  const code = await runCommand(
    h.env,
    {
      stdout: { write: (text: string) => stdout.push(text) },
      stderr: { write: (text: string) => stderr.push(text) },
      ...(progressStream === undefined ? {} : { progressStream }),
      confirm: async (question) => {
        questions.push(question);
        const { answer = false } = options;
        return typeof answer === 'function' ? answer(question) : answer;
      },
      operator: OPERATOR,
    },
    { json: options.json ?? false, verbose: options.verbose ?? false },
    async (ctx: OpsContext) => (result = await command(ctx)),
    options.exitCodeOf,
  );
  return {
    code,
    result,
    stdout: stdout.join(''),
    stderr: stderr.join(''),
    questions,
    progress: Buffer.concat(progress).toString('utf8'),
  };
};

/** Sets attributes of the offset item (`attempts` to `{}` unless given), keeping the others. */
export const putOffset = async (h: Harness, attributes: Record<string, unknown>): Promise<void> => {
  const { consumer: _key, ...rest } = attributes;
  const values: Record<string, unknown> = { attempts: {}, ...rest };
  const names = Object.keys(values);
  await h.documents.send(
    new UpdateCommand({
      TableName: h.offsetsTable,
      Key: { consumer: CONSUMER_LABEL },
      UpdateExpression: `SET ${names.map((_, i) => `#n${i} = :v${i}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(names.map((name, i) => [`#n${i}`, name])),
      ExpressionAttributeValues: Object.fromEntries(names.map((name, i) => [`:v${i}`, values[name]])),
    }),
  );
};

/** Adds a raw entry to any stream of the harness. */
export const xadd = async (h: Harness, stream: string, fields: Record<string, string>, id = '*'): Promise<string> =>
  String(await h.redis.exec(['XADD', stream, id, ...Object.entries(fields).flat()]));

/** A success result for a game, valid in every field. */
export const success = (gameId: string): Record<string, string> => ({
  game_id: gameId,
  outcome: 'success',
  container_id: `container-${gameId}`,
  engine_endpoint: `http://engine-${gameId}.galaxy.internal:8080/`,
});
