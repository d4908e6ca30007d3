/**
 * What every command gets: the consumer's own dependencies (same configuration, secrets, clients
 * and adapters as the Lambda), a document client for the raw items operators look at, and
 * the CLI's output and prompts.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Env } from '../functions/runtime-job-results/config.js';
import { buildDependencies } from '../functions/runtime-job-results/dependencies.js';
import type { Dependencies } from '../functions/runtime-job-results/dependencies.js';
import type { Output } from './output.js';

export interface OpsContext {
  readonly dependencies: Dependencies;
  /** For reads the ports do not offer: the whole offset item, the whole game item. */
  readonly documents: DynamoDBDocumentClient;
  readonly output: Output;
  /** Lease owner of this operator's fenced writes, `ops:<user>@<host>`. */
  readonly operator: string;
  readonly nowMs: () => number;
  /** Asks a yes/no question; false when nobody can answer (no terminal). */
  readonly confirm: (question: string) => Promise<boolean>;
  /** Show the start flow's log lines (replay) on stderr. */
  readonly verbose: boolean;
}

export interface ConnectOptions {
  readonly output: Output;
  readonly operator: string;
  readonly confirm: (question: string) => Promise<boolean>;
  readonly nowMs?: () => number;
  readonly verbose?: boolean;
}

/** The lease owner name of an operator: who and where, so a held lease can be traced. */
export const operatorName = (user: string, host: string): string => `ops:${user}@${host}`;

/**
 * Where the configuration comes from: an environment (the shell's), or a lookup that makes
 * one (`--function`: the deployed function's configuration), run inside the command so its
 * failures get the command's exit codes.
 */
export type EnvSource = Env | (() => Promise<Env>);

/** Builds the dependencies from `env` exactly as the Lambda does; `close()` frees its DynamoDB client. */
export const connect = async (env: EnvSource, options: ConnectOptions): Promise<OpsContext & { close(): void }> => {
  const dependencies = await buildDependencies(typeof env === 'function' ? await env() : env);
  const { documents } = dependencies;
  return {
    dependencies,
    documents,
    output: options.output,
    operator: options.operator,
    nowMs: options.nowMs ?? Date.now,
    confirm: options.confirm,
    verbose: options.verbose ?? false,
    close: () => documents.destroy(),
  };
};
