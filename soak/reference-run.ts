/**
 * The quiet run a crash run is compared with: the same scenario, the real handler in this
 * process, no fault and no kill — only the scenario's own events (Lobby's racing cancels,
 * Game Master's per-game answers).
 */
import { createHandler } from '../functions/runtime-job-results/create-handler.js';
import { lambdaContext, scheduledEvent } from '../scripts/support/lambda-context.js';
import { forward } from '../local/dynamodb-proxy.js';
import type { GamesTap } from './games-tap.js';
import type { RunResources } from './run-resources.js';
import type { Scenario } from './scenario.js';

export interface ReferenceFigures {
  readonly invocations: number;
  readonly wallMs: number;
}

/** Guards against a consumer that never drains (it would be a finding of its own). */
const MAX_INVOCATIONS = 500;

export const runReference = async (
  resources: RunResources,
  tap: GamesTap,
  scenario: Scenario,
): Promise<ReferenceFigures> => {
  const started = Date.now();
  resources.dynamodbProxy.setHook((call) => tap.decorate(call, forward));
  const handler = createHandler(resources.env);
  for (let invocations = 1; invocations <= MAX_INVOCATIONS; invocations += 1) {
    const summary = await handler(scheduledEvent(), lambdaContext(60_000));
    if (summary.stoppedBy === 'drained' && summary.lastEntryId === scenario.lastEntryId) {
      return { invocations, wallMs: Date.now() - started };
    }
  }
  throw new Error(`reference run did not drain the stream in ${MAX_INVOCATIONS} invocations`);
};
