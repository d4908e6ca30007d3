/**
 * `npm run soak`: the crash soak. Starts a local stack of its own, seeds a backlog of mixed
 * results, drains it once quietly in this process and once in child processes that are
 * SIGKILLed at random moments while DynamoDB and Upstash misbehave, then compares the two.
 * Prints the figures; exits 1 on any mismatch (see docs/reliability.md).
 *
 *   --results N            backlog size (default 3000)
 *   --kills N              random SIGKILLs (default 30)
 *   --seed N               scenario, fault and kill seed (default 1)
 *   --invoke-timeout MS    each child's Lambda timeout; its lease frees after it (default 8000)
 *   --no-faults            kills only
 *   --follow               follow mode: invocations on a schedule, each taking over from the
 *                          one before; the kills land during hand-overs
 *   --json FILE            also write the report as JSON
 */
import { writeFileSync } from 'node:fs';
import { startLocalStack } from '../local/stack.js';
import { createGamesTable, createOffsetsTable, deleteTable, localDynamoDbClient } from '../local/tables.js';
import { DEFAULT_SOAK_OPTIONS, runSoak } from '../soak/run-soak.js';
import { formatReport } from '../soak/report.js';
import { parseScriptArgs } from './support/cli-args.js';

const USAGE = `
npm run soak -- [options]

  --results N            backlog size (default ${DEFAULT_SOAK_OPTIONS.results})
  --kills N              random SIGKILLs (default ${DEFAULT_SOAK_OPTIONS.kills})
  --seed N               scenario, fault and kill seed (default ${DEFAULT_SOAK_OPTIONS.seed})
  --invoke-timeout MS    each child's Lambda timeout; its lease frees after it (default ${DEFAULT_SOAK_OPTIONS.invokeTimeoutMs})
  --no-faults            kills only
  --follow               follow mode: invocations on a schedule, each taking over from the one
                         before (POLL_INTERVAL_MS=100); the kills land during hand-overs
  --json FILE            also write the report as JSON`;

const args = parseScriptArgs(
  {
    results: { type: 'string', default: String(DEFAULT_SOAK_OPTIONS.results) },
    kills: { type: 'string', default: String(DEFAULT_SOAK_OPTIONS.kills) },
    seed: { type: 'string', default: String(DEFAULT_SOAK_OPTIONS.seed) },
    'invoke-timeout': { type: 'string', default: String(DEFAULT_SOAK_OPTIONS.invokeTimeoutMs) },
    'no-faults': { type: 'boolean', default: false },
    follow: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
  USAGE,
);

const whole = (name: string, raw: string | undefined, min: number): number => {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    console.error(`--${name} takes a whole number of at least ${min}, got ${String(raw)}`);
    process.exit(2);
  }
  return value;
};

const invokeTimeoutMs = whole('invoke-timeout', args['invoke-timeout'], 3_000);
const options = {
  ...DEFAULT_SOAK_OPTIONS,
  results: whole('results', args.results, 10),
  kills: whole('kills', args.kills, 0),
  seed: whole('seed', args.seed, 0),
  invokeTimeoutMs,
  timeBudgetMarginMs: Math.min(DEFAULT_SOAK_OPTIONS.timeBudgetMarginMs, Math.floor(invokeTimeoutMs * 0.5)),
  faults: args['no-faults'] ? {} : DEFAULT_SOAK_OPTIONS.faults,
  ...(args.follow ? { followPollIntervalMs: 100 } : {}),
  onProgress: ({ invocations, kills, offset }: { invocations: number; kills: number; offset: string | undefined }) => {
    process.stderr.write(`\r  invocations ${invocations}, kills ${kills}, offset ${offset ?? '0-0'}      `);
  },
};
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

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
