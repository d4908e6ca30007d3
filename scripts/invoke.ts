/**
 * `npm run invoke`: one invocation of the real handler with this process's environment,
 * as the schedule would make it. Point the variables at a real Upstash database and real
 * DynamoDB to run it against them, or at the local stack (the tests do).
 *
 *   npm run invoke -- --timeout 50000   the Lambda timeout to pretend, in ms (or INVOKE_TIMEOUT_MS)
 */
import './support/quiet-sdk-node-warning.js';
import { Option } from 'commander';
import { createHandler } from '../functions/runtime-job-results/create-handler.js';
import { scriptProgram, wholeNumber } from './support/cli-args.js';
import { lambdaContext, scheduledEvent } from './support/lambda-context.js';

const { timeout } = scriptProgram(
  'npm run invoke --',
  "One invocation of the real handler with this shell's environment (the function's variables).",
)
  .addOption(
    new Option('--timeout <ms>', 'the Lambda timeout to pretend')
      .env('INVOKE_TIMEOUT_MS')
      .argParser(wholeNumber(1))
      .default(50_000),
  )
  .parse()
  .opts<{ timeout: number }>();

try {
  const summary = await createHandler(process.env)(scheduledEvent(), lambdaContext(timeout));
  process.stdout.write(`${JSON.stringify({ summary })}\n`);
} catch (error) {
  process.stderr.write(`invocation failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
