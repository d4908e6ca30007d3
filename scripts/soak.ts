/**
 * `npm run soak`: the crash soak. Starts a local stack of its own, seeds a backlog of mixed
 * results, drains it once quietly in this process and once in child processes that are
 * SIGKILLed at random moments while DynamoDB and Upstash misbehave, then compares the two.
 * Prints the figures; exits 1 on any mismatch (see docs/reliability.md). `npm run soak --
 * --help` lists the options (`--results`, `--kills`, `--seed`, `--invoke-timeout`,
 * `--no-faults`, `--follow`, `--json`).
 */
import './support/quiet-sdk-node-warning.js';
import { writeFileSync } from 'node:fs';
import { startLocalStack } from '../local/stack.js';
import { createGamesTable, createOffsetsTable, deleteTable, localDynamoDbClient } from '../local/tables.js';
import { DEFAULT_ASK_KILLS, DEFAULT_SOAK_OPTIONS, runSoak } from '../soak/run-soak.js';
import { formatReport } from '../soak/report.js';
import { scriptProgram, wholeNumber } from './support/cli-args.js';

const args = scriptProgram(
  'npm run soak --',
  'Crash soak: a quiet drain and a drain in SIGKILLed processes under faults, compared.',
)
  .option('--results <n>', 'backlog size', wholeNumber(10), DEFAULT_SOAK_OPTIONS.results)
  .option('--kills <n>', 'random SIGKILLs', wholeNumber(0), DEFAULT_SOAK_OPTIONS.kills)
  .option('--seed <n>', 'scenario, fault and kill seed', wholeNumber(0), DEFAULT_SOAK_OPTIONS.seed)
  .option(
    '--invoke-timeout <ms>',
    "each child's Lambda timeout; its lease frees after it",
    wholeNumber(3_000),
    DEFAULT_SOAK_OPTIONS.invokeTimeoutMs,
  )
  .option('--no-faults', 'kills only')
  .option(
    '--follow',
    'follow mode: invocations on a schedule, each asking the one before for the lease (POLL_INTERVAL_MS=100); the kills land during hand-overs',
    false,
  )
  .option(
    '--ask-kills <n>',
    'follow mode: also kill right after an ask, the holder and the asker in turn',
    wholeNumber(0),
    DEFAULT_ASK_KILLS,
  )
  .option('--json <file>', 'also write the report as JSON')
  .parse()
  .opts<{
    results: number;
    kills: number;
    seed: number;
    invokeTimeout: number;
    faults: boolean;
    follow: boolean;
    askKills: number;
    json?: string;
  }>();

const invokeTimeoutMs = args.invokeTimeout;
const options = {
  ...DEFAULT_SOAK_OPTIONS,
  results: args.results,
  kills: args.kills,
  seed: args.seed,
  invokeTimeoutMs,
  timeBudgetMarginMs: Math.min(DEFAULT_SOAK_OPTIONS.timeBudgetMarginMs, Math.floor(invokeTimeoutMs * 0.5)),
  faults: args.faults ? DEFAULT_SOAK_OPTIONS.faults : {},
  ...(args.follow ? { followPollIntervalMs: 100, askKills: args.askKills } : {}),
  onProgress: ({ invocations, kills, offset }: { invocations: number; kills: number; offset: string | undefined }) => {
    process.stderr.write(`\r  invocations ${invocations}, kills ${kills}, offset ${offset ?? '0-0'}      `);
  },
};
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

console.log(
  `Starting a local stack for the soak (${options.results} results, ${options.kills} kills, seed ${options.seed})…`,
);
const stack = await startLocalStack();
let exitCode = 1;
try {
  const dynamodb = localDynamoDbClient(stack.dynamodb.endpoint);
  let tableNumber = 0;
  const report = await runSoak(
    {
      dynamodbEndpoint: stack.dynamodb.endpoint,
      upstashUrl: stack.upstash.url,
      upstashToken: stack.upstash.token,
      createTables: async () => {
        tableNumber += 1;
        const gamesTable = `soak-games-${tableNumber}`;
        const offsetsTable = `soak-offsets-${tableNumber}`;
        await Promise.all([createGamesTable(dynamodb, gamesTable), createOffsetsTable(dynamodb, offsetsTable)]);
        return {
          gamesTable,
          offsetsTable,
          cleanup: async () => {
            await Promise.all([deleteTable(dynamodb, gamesTable), deleteTable(dynamodb, offsetsTable)]);
          },
        };
      },
    },
    options,
  );
  process.stderr.write('\n');
  console.log(formatReport(report));
  if (args.json !== undefined) {
    const { onProgress: _progress, ...plainOptions } = report.options;
    writeFileSync(
      args.json,
      `${JSON.stringify({ ...report, options: plainOptions, crash: { ...report.crash, injected: report.crash.injected.length } }, null, 2)}\n`,
    );
  }
  exitCode = report.mismatches.length === 0 ? 0 : 1;
  dynamodb.destroy();
} finally {
  await stack.stop();
}
process.exit(exitCode);
