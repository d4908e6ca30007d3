/**
 * `--function <name>`: the CLI configured from the deployed function itself. Its
 * configuration holds every variable the function reads (table names, stream names, URLs,
 * secret ARNs; never a token), so the CLI builds exactly the dependencies the function builds,
 * and reads the tokens from Secrets Manager as the function does.
 */
import { GetFunctionConfigurationCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import type { Env } from '../functions/runtime-job-results/config.js';
import { VARIABLES } from '../functions/runtime-job-results/environment.js';
import { NotFoundError, UsageError } from './errors.js';

/** What {@link functionEnvironment} needs of a Lambda client: sending one command (tests pass a fake). */
export interface FunctionConfigurationReader {
  send(command: GetFunctionConfigurationCommand): Promise<{
    readonly FunctionArn?: string | undefined;
    readonly Environment?: { readonly Variables?: Record<string, string> | undefined } | undefined;
  }>;
}

/** The variables Lambda sets itself, or that only make sense inside Lambda: never copied. */
const NOT_COPIED = new Set(['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);

/**
 * The environment the CLI runs with for the function `functionName`: the function's own
 * variables that the function reads (`environment.ts`), nothing of this shell's, and
 * `AWS_REGION` of the function (from its ARN). Credentials and the client's region come from
 * the SDK's usual chain (`--profile`, `--region`, `AWS_*` variables).
 */
export const functionEnvironment = async (reader: FunctionConfigurationReader, functionName: string): Promise<Env> => {
  let configuration: Awaited<ReturnType<FunctionConfigurationReader['send']>>;
  try {
    configuration = await reader.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
  } catch (error) {
    if (
      error instanceof ResourceNotFoundException ||
      (error as { name?: unknown }).name === 'ResourceNotFoundException'
    ) {
      throw new NotFoundError(
        `function ${functionName} not found: check the name (the stack's FunctionName output) and --region/--profile`,
      );
    }
    throw error;
  }
  const variables = configuration.Environment?.Variables ?? {};
  if (variables.GAMES_TABLE === undefined || variables.OFFSETS_TABLE === undefined) {
    throw new UsageError(
      `function ${functionName} has no GAMES_TABLE or OFFSETS_TABLE: it is not a start-flow consumer`,
    );
  }
  const region = /^arn:[^:]+:lambda:([^:]+):/.exec(configuration.FunctionArn ?? '')?.[1];
  return {
    ...Object.fromEntries(Object.entries(variables).filter(([name]) => name in VARIABLES && !NOT_COPIED.has(name))),
    ...(region === undefined ? {} : { AWS_REGION: region }),
  };
};

/** A Lambda client with the SDK's default chain for credentials and region. */
export const lambdaClient = (): LambdaClient => new LambdaClient({});
