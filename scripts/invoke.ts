/**
 * `npm run invoke`: one invocation of the real handler with this process's environment,
 * as the schedule would make it. Point the variables at a real Upstash database and real
 * DynamoDB to run it against them, or at the local stack (the tests do).
 *
 *   INVOKE_TIMEOUT_MS  the Lambda timeout to pretend (default 50000)
 */
import { createHandler } from '../functions/runtime-job-results/create-handler.js';
import { lambdaContext, scheduledEvent } from './support/lambda-context.js';

const timeoutMs = Number(process.env.INVOKE_TIMEOUT_MS ?? '50000');
if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
  console.error(`INVOKE_TIMEOUT_MS must be a positive whole number, got ${process.env.INVOKE_TIMEOUT_MS}`);
  process.exit(2);
}

try {
  const summary = await createHandler(process.env)(scheduledEvent(), lambdaContext(timeoutMs));
  process.stdout.write(`${JSON.stringify({ summary })}\n`);
} catch (error) {
  process.stderr.write(`invocation failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
