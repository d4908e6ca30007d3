/**
 * `npm run local`: the whole flow on this machine. Starts DynamoDB Local, a redis-server
 * behind the project's Upstash-compatible REST server and a Game Master stub; creates the
 * tables; seeds the demo of scripts/demo/scenario.ts; runs the real handler as the
 * schedule would until the stream is drained; prints what happened. Everything started
 * stops when this exits, Ctrl-C included.
 *
 *   npm run local                      seed, drain, report, exit
 *   npm run local -- --watch           then follow the stream, invoking on a schedule, until Ctrl-C
 *   npm run local -- --watch --every 10  schedule period in seconds (default 60)
 *   npm run local -- --watch --drain   invoke in drain mode instead (POLL_INTERVAL_MS=0)
 *   npm run local -- --verbose         show the handler's JSON log lines and EMF metrics
 */
import './support/quiet-sdk-node-warning.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Redis } from '@upstash/redis';
import { createHandler } from '../functions/runtime-job-results/create-handler.js';
import type { InvocationSummary } from '../functions/runtime-job-results/consumer/run-invocation.js';
import { DEFAULT_STREAMS } from '../functions/runtime-job-results/environment.js';
import { consumerEnv } from '../local/consumer-env.js';
import { isBindingWrite, setGameStatus } from '../local/lobby-race.js';
import { startLocalStack } from '../local/stack.js';
import { forward, gameIdOf, startDynamoDbProxy, throttled } from '../local/dynamodb-proxy.js';
import type { DynamoDbCall, ProxyAction } from '../local/dynamodb-proxy.js';
import { createGamesTable, createOffsetsTable, localDynamoDbClient } from '../local/tables.js';
import { demoGames, firstWave, secondWave } from './demo/scenario.js';
import { printReport } from './demo/report.js';
import { watch } from './demo/watch.js';
import { positiveNumber, scriptProgram } from './support/cli-args.js';
import { lambdaContext, scheduledEvent } from './support/lambda-context.js';

const args = scriptProgram('npm run local --', 'The whole start flow on this machine, with a seeded demo.')
  .option(
    '--watch',
    'after the demo, follow the stream: invoke the handler on a schedule, each invocation taking over from the one before, until Ctrl-C',
    false,
  )
  .option('--every <seconds>', 'the schedule period in seconds with --watch', positiveNumber, 60)
  .option('--drain', 'with --watch, invoke in drain mode (each invocation returns when drained)', false)
  .option('--verbose', "show the handler's JSON log lines and EMF metrics", false)
  .parse()
  .opts<{ watch: boolean; every: number; drain: boolean; verbose: boolean }>();
const periodSeconds = args.every;
if (!args.verbose) process.env.POWERTOOLS_METRICS_DISABLED = 'true';

const LAMBDA_TIMEOUT_MS = 50_000;
const GAMES_TABLE = 'galaxy-games';
const OFFSETS_TABLE = 'galaxy-start-flow-offsets';
const streams = DEFAULT_STREAMS;

console.log('Starting the local stack (redis-server, Upstash REST server, DynamoDB Local, Game Master stub)…');
const stack = await startLocalStack();
const proxy = await startDynamoDbProxy(stack.dynamodb.endpoint);
try {
  const dynamodb = localDynamoDbClient(stack.dynamodb.endpoint);
  const documents = DynamoDBDocumentClient.from(dynamodb);
  await createGamesTable(dynamodb, GAMES_TABLE);
  await createOffsetsTable(dynamodb, OFFSETS_TABLE);
  const redis = new Redis({ url: stack.upstash.url, token: stack.upstash.token, automaticDeserialization: false });

  const env = consumerEnv(
    {
      streams,
      upstash: stack.upstash,
      gamesTable: GAMES_TABLE,
      offsetsTable: OFFSETS_TABLE,
      // Through the proxy, which plays Lobby's racing write and DynamoDB's throttling.
      dynamodbEndpoint: proxy.endpoint,
      gameMasterUrl: stack.gameMaster.baseUrl,
    },
    { gameMasterTimeoutMs: 1_000, telemetry: { logLevel: args.verbose ? 'INFO' : 'ERROR' } },
  );
  console.log(`  DynamoDB Local   ${stack.dynamodb.endpoint} (via fault proxy ${proxy.endpoint})`);
  console.log(`  Upstash REST     ${stack.upstash.url}  (redis-server on port ${stack.redis.port})`);
  console.log(`  Game Master stub ${stack.gameMaster.baseUrl}`);

  for (const game of demoGames) {
    await documents.send(
      new PutCommand({
        TableName: GAMES_TABLE,
        Item: {
          gameId: game.gameId,
          gameName: game.gameName,
          status: game.status,
          targetEngineVersion: '1.9.0',
          turnSchedule: '0 */6 * * *',
          createdBy: 'lobby-demo',
        },
      }),
    );
    if (game.gameMaster) stack.gameMaster.setBehaviour(game.gameId, game.gameMaster);
  }
  proxy.setHook(lobbyAndDynamoDbBehaviour(documents));

  const publish = async (wave: readonly Record<string, string>[]): Promise<void> => {
    for (const fields of wave) await redis.exec(['XADD', streams.results, '*', ...Object.entries(fields).flat()]);
  };
  const handler = createHandler(env);
  const summaries: { label: string; summary: InvocationSummary }[] = [];
  const drain = async (label: string): Promise<void> => {
    for (let round = 1; ; round += 1) {
      const summary = await handler(scheduledEvent(), lambdaContext(LAMBDA_TIMEOUT_MS));
      summaries.push({ label: `${label} #${round}`, summary });
      if (summary.stoppedBy === 'drained') return;
      if (summary.stoppedBy === 'transient_error') await sleep(1_000);
    }
  };

  console.log(`\nSeeded ${demoGames.length} games; publishing ${firstWave.length} runtime job results…`);
  await publish(firstWave);
  await drain('wave 1');
  console.log(`Publishing ${secondWave.length} replayed results…`);
  await publish(secondWave);
  await drain('wave 2');

  await printReport({
    documents,
    redis,
    gamesTable: GAMES_TABLE,
    offsetsTable: OFFSETS_TABLE,
    streams,
    summaries,
    gameMaster: stack.gameMaster,
  });

  if (args.watch) {
    // Straight to DynamoDB Local, not through the demo's fault proxy.
    const shellEnv = { ...env, DYNAMODB_ENDPOINT: stack.dynamodb.endpoint };
    console.log('\nTo run `npm run ops -- status` (or `npm run invoke`) against this stack from another shell:');
    console.log(
      `export ${Object.entries(shellEnv)
        .map(([name, value]) => `${name}='${value}'`)
        .join(' ')}`,
    );
    proxy.setHook(undefined);
    await watch({
      env,
      documents,
      gamesTable: GAMES_TABLE,
      resultsStream: streams.results,
      redisPort: stack.redis.port,
      periodSeconds,
      follow: !args.drain,
    });
  }
} finally {
  await proxy.close();
  await stack.stop();
}

/**
 * What the DynamoDB proxy does to the demo's traffic: Lobby cancels `draco` just before the
 * consumer writes its binding, and the first three writes for `hydra` are throttled (the SDK retries twice, then the consumer).
 */
function lobbyAndDynamoDbBehaviour(documents: DynamoDBDocumentClient): (call: DynamoDbCall) => ProxyAction {
  const cancelled = new Set<string>();
  let hydraThrottles = 0;
  return (call) => {
    const gameId = gameIdOf(call);
    const game = demoGames.find((g) => g.gameId === gameId);
    if (!game || call.operation !== 'UpdateItem') return forward;
    if (game.cancelledDuringStart && !cancelled.has(game.gameId) && isBindingWrite(call)) {
      cancelled.add(game.gameId);
      return { kind: 'forward', before: () => setGameStatus(documents, GAMES_TABLE, game.gameId, 'cancelled') };
    }
    if (game.throttled && hydraThrottles < 3) {
      hydraThrottles += 1;
      return throttled;
    }
    return forward;
  };
}
