/**
 * `npm run local -- --watch`: after the demo, invokes the handler on a schedule as the stack
 * does. In follow mode (the default) each tick's invocation outlasts the period and takes
 * over from the one before, so a result added at any moment is applied within about a
 * second; `--drain` invokes in drain mode instead (a result waits for the next tick).
 * Spare `starting` games are seeded, and every status change is printed with how long
 * after its entry was added it happened.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createHandler } from '../../functions/runtime-job-results/create-handler.js';
import type { Handler } from '../../functions/runtime-job-results/create-handler.js';
import { entryAgeMs } from '../../functions/runtime-job-results/domain/entry-id.js';
import { lambdaContext, scheduledEvent } from '../support/lambda-context.js';

export interface WatchInput {
  readonly env: Readonly<Record<string, string>>;
  readonly documents: DynamoDBDocumentClient;
  readonly gamesTable: string;
  readonly resultsStream: string;
  readonly redisPort: number;
  readonly periodSeconds: number;
  readonly follow: boolean;
}

/** Follow mode here: a short margin and hand-over, so a local period of a few seconds works. */
const MARGIN_MS = 2_000;
const HANDOVER_MS = 3_000;
const SPARE_GAMES = 5;

export const watch = async (input: WatchInput): Promise<never> => {
  const { documents, gamesTable } = input;
  const periodMs = input.periodSeconds * 1_000;
  const timeoutMs = input.follow ? periodMs + MARGIN_MS + HANDOVER_MS : Math.max(1_000, periodMs - 1_000);
  const env = {
    ...input.env,
    POLL_INTERVAL_MS: input.follow ? '250' : '0',
    // Caps the idle back-off so a result added after a quiet spell is read within half a second.
    POLL_IDLE_MAX_MS: '500',
    TIME_BUDGET_MARGIN_MS: String(MARGIN_MS),
  };
  const spares = Array.from({ length: SPARE_GAMES }, (_, i) => `watch-${i + 1}`);
  for (const gameId of spares) {
    await documents.send(
      new PutCommand({
        TableName: gamesTable,
        Item: {
          gameId,
          gameName: gameId,
          status: 'starting',
          targetEngineVersion: '1.9.0',
          turnSchedule: '0 */6 * * *',
        },
      }),
    );
  }
  console.log(
    `\nWatching in ${input.follow ? 'follow' : 'drain'} mode: an invocation every ${input.periodSeconds}s with a ` +
      `${timeoutMs / 1_000}s timeout${input.follow ? ', each taking over from the one before' : ''}. Ctrl-C stops everything.`,
  );
  console.log(`Games ${spares.join(', ')} are starting; add a result for one from another shell:\n`);
  console.log(
    `  redis-cli -p ${input.redisPort} XADD ${input.resultsStream} '*' game_id watch-1 outcome success ` +
      'container_id ctr-watch-1 engine_endpoint http://engine-watch-1.galaxy.internal:8080\n',
  );

  // Two handlers, like two Lambda execution environments: the overlap needs both.
  const handlers: Handler[] = [createHandler(env), createHandler(env)];
  const invoke = (tick: number): void => {
    const handler = handlers[tick % handlers.length] as Handler;
    void handler(scheduledEvent(), lambdaContext(timeoutMs)).then(
      (summary) => console.log(`${new Date().toISOString()} invocation ended ${JSON.stringify(summary)}`),
      (error: unknown) => console.error(`invocation failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  };
  let tick = 0;
  invoke(tick);
  setInterval(() => {
    tick += 1;
    invoke(tick);
  }, periodMs);

  const seen = new Map<string, string>();
  for (;;) {
    const { Items = [] } = await documents.send(new ScanCommand({ TableName: gamesTable, ConsistentRead: true }));
    for (const game of Items) {
      const gameId = String(game.gameId);
      const status = String(game.status);
      const before = seen.get(gameId);
      seen.set(gameId, status);
      if (before === undefined || before === status) continue;
      const source = (game.lastTransition as { sourceEntryId?: unknown } | undefined)?.sourceEntryId;
      const changedAt = typeof game.statusChangedAt === 'string' ? Date.parse(game.statusChangedAt) : Date.now();
      const after = typeof source === 'string' ? `, ${entryAgeMs(source, changedAt)} ms after entry ${source}` : '';
      console.log(`${new Date().toISOString()} ${gameId}: ${before} → ${status}${after}`);
    }
    await sleep(200);
  }
};
