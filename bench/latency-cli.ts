/**
 * `npm run bench -- --latency`: the latency benchmark. Results trickle in (default 5 a
 * second for 40 s) while invocations start on a scaled-down schedule (default every 10 s),
 * in follow mode (timeout past the period: hand-overs) and in drain mode
 * (`POLL_INTERVAL_MS=0`). Prints p50/p99/max from entry id to status change and the
 * requests per idle minute; writes bench/results/latency.json and latency.svg; exits 1 if an
 * entry was skipped or applied twice. docs/performance.md explains the figures.
 *
 *   npm run bench -- --latency [--rate 5] [--duration 40] [--idle 60] [--period 10] [--modes follow,drain]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { startLocalStack } from '../local/stack.js';
import { bundleEntry } from './bundle.js';
import { wholeNumber } from './cli-options.js';
import { runLatencyMode } from './latency.js';
import type { LatencyMode, LatencyModeResult, LatencyOptions } from './latency.js';
import { latencySvg } from './latency-chart.js';
import { sourceVersion } from './source-version.js';
import { round } from './stats.js';

/** The targets the follow mode is held to (bench output, not a timed test). */
export const LATENCY_TARGETS = {
  p99Ms: 500,
  maxMs: 1_000,
  idleUpstashPerMinute: 60,
  idleDynamoDbPerMinute: 2,
} as const;

const latencyModes = (value: string): LatencyMode[] => {
  const modes = value.split(',').map((mode) => mode.trim());
  for (const mode of modes) {
    if (mode !== 'follow' && mode !== 'drain') throw new InvalidArgumentError(`unknown mode "${mode}" (follow, drain)`);
  }
  return modes as LatencyMode[];
};

const program = new Command('bench --latency').description(
  'Latency from entry id to status change, follow vs drain mode, with hand-overs between invocations.',
);
program
  .option('--latency', 'this benchmark (the flag that selects it)')
  .addOption(new Option('--rate <n>', 'results per second').argParser(wholeNumber(1)).default(5))
  .addOption(new Option('--duration <s>', 'seconds of trickle (at least 30)').argParser(wholeNumber(30)).default(40))
  .addOption(new Option('--idle <s>', 'seconds of the idle window after it').argParser(wholeNumber(10)).default(60))
  .addOption(new Option('--period <s>', 'the scaled-down schedule period').argParser(wholeNumber(4)).default(10))
  .addOption(
    new Option('--idle-period <s>', 'the schedule period during the idle window (the stack default)')
      .argParser(wholeNumber(4))
      .default(60),
  )
  .addOption(new Option('--poll <ms>', 'POLL_INTERVAL_MS in follow mode').argParser(wholeNumber(1)).default(250))
  .addOption(new Option('--margin <ms>', 'TIME_BUDGET_MARGIN_MS').argParser(wholeNumber(0)).default(2_000))
  .addOption(
    new Option('--handover <s>', 'follow mode: the next invocation starts this long before the holder stops')
      .argParser(wholeNumber(1))
      .default(3),
  )
  .addOption(new Option('--modes <list>', 'modes, in order').argParser(latencyModes).default(['follow', 'drain']))
  .addOption(
    new Option('--out <dir>', 'where latency.json and latency.svg go (ignored by git)').default(
      fileURLToPath(new URL('./results/', import.meta.url)),
      'bench/results/',
    ),
  );
program.parse();
const INVOKE_ENTRY = fileURLToPath(new URL('../scripts/invoke.ts', import.meta.url));
const cli = program.opts<{
  rate: number;
  duration: number;
  idle: number;
  period: number;
  idlePeriod: number;
  poll: number;
  margin: number;
  handover: number;
  modes: LatencyMode[];
  out: string;
}>();

mkdirSync(cli.out, { recursive: true });
const options: LatencyOptions = {
  rate: cli.rate,
  durationS: cli.duration,
  idleS: cli.idle,
  periodS: cli.period,
  pollIntervalMs: cli.poll,
  marginMs: cli.margin,
  handoverS: cli.handover,
  idlePeriodS: cli.idlePeriod,
  invokeBundle: (await bundleEntry(INVOKE_ENTRY, cli.out, 'invoke')).path,
};

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
console.error('Starting the local stack (redis-server, Upstash REST server, DynamoDB Local, Game Master stub)…');
const stack = await startLocalStack({ gameMaster: { defaultDelayMs: 5 } });
// The commit measured: taken before the run, as the children's bundle was built from it.
const source = sourceVersion();
const results: LatencyModeResult[] = [];
try {
  for (const mode of cli.modes) {
    console.error(`${mode} mode: ${options.rate}/s for ${options.durationS} s, then ${options.idleS} s idle`);
    results.push(await runLatencyMode(stack, mode, options, (line) => console.error(line)));
  }
} finally {
  await stack.stop();
}

const lines = [
  '',
  `Latency, entry id → status change, ${options.rate} results/s for ${options.durationS} s; schedule every ${options.periodS} s`,
  `mode    timeout  p50 ms  p99 ms  max ms  busy Upstash/min  busy DynamoDB/min  idle Upstash/min  idle DynamoDB/min  skipped  applied twice   (idle: a ${options.idlePeriodS} s schedule)`,
  ...results.map(
    (r) =>
      `${r.mode.padEnd(7)} ${`${r.timeoutMs / 1_000} s`.padStart(7)} ${String(r.latencyMs.p50).padStart(7)} ` +
      `${String(r.latencyMs.p99).padStart(7)} ${String(r.latencyMs.max).padStart(7)} ` +
      `${String(r.busy.upstashPerMinute).padStart(17)} ${String(r.busy.dynamodbPerMinute).padStart(18)} ` +
      `${String(r.idle.upstashPerMinute).padStart(17)} ${String(r.idle.dynamodbPerMinute).padStart(18)} ` +
      `${String(r.notApplied).padStart(8)} ${String(r.appliedTwice).padStart(14)}`,
  ),
];
const follow = results.find((r) => r.mode === 'follow');
const verdicts: string[] = [];
if (follow) {
  const check = (ok: boolean, text: string) => verdicts.push(`${ok ? 'PASS' : 'FAIL'} ${text}`);
  check(
    follow.steadyLatencyMs.p99 <= LATENCY_TARGETS.p99Ms,
    `follow p99 ${follow.steadyLatencyMs.p99} ms ≤ ${LATENCY_TARGETS.p99Ms} (after the first second)`,
  );
  check(
    follow.steadyLatencyMs.max <= LATENCY_TARGETS.maxMs,
    `follow max ${follow.steadyLatencyMs.max} ms ≤ ${LATENCY_TARGETS.maxMs} (after the first second)`,
  );
  check(
    follow.idle.upstashPerMinute <= LATENCY_TARGETS.idleUpstashPerMinute,
    `follow idle Upstash ${follow.idle.upstashPerMinute}/min ≤ ${LATENCY_TARGETS.idleUpstashPerMinute}`,
  );
  check(
    follow.idle.dynamodbPerMinute <= LATENCY_TARGETS.idleDynamoDbPerMinute,
    `follow idle DynamoDB ${follow.idle.dynamodbPerMinute}/min ≤ ${LATENCY_TARGETS.idleDynamoDbPerMinute}`,
  );
  check(follow.handedOver > 0, `hand-overs on request during the run: ${follow.handedOver}`);
  lines.push(
    '',
    `follow after the first second: p50 ${follow.steadyLatencyMs.p50} ms, p99 ${follow.steadyLatencyMs.p99} ms, ` +
      `max ${follow.steadyLatencyMs.max} ms; the first second (waking from the idle back-off): max ${follow.wakeUpMaxMs} ms`,
    `follow: ${follow.handedOver} handed over; lease waits p50 ${follow.leaseWaitMs.p50} ms, max ` +
      `${follow.leaseWaitMs.max} ms (${follow.leaseWaitMs.count} waits); two invocations at once for ` +
      `${round(follow.overlapShare * 100, 2)}% of the run time (cold starts included), ` +
      `${follow.overlapPerHandoverS} s per hand-over: ${round((follow.overlapPerHandoverS / options.idlePeriodS) * 100, 2)}% ` +
      `at a ${options.idlePeriodS} s period`,
    `follow: the idle window's hand-over took ${follow.handoverRequests.upstash} Upstash and ` +
      `${follow.handoverRequests.dynamodb} DynamoDB requests (both invocations, the 4 s after the tick)`,
  );
}
for (const r of results) {
  verdicts.push(
    `${r.notApplied === 0 && r.appliedTwice === 0 ? 'PASS' : 'FAIL'} ${r.mode}: none skipped, none applied twice`,
  );
}
console.log([...lines, '', ...verdicts].join('\n'));

const json = join(cli.out, 'latency.json');
const svg = join(cli.out, 'latency.svg');
writeFileSync(
  json,
  `${JSON.stringify({ at: new Date().toISOString(), source, options, targets: LATENCY_TARGETS, results, verdicts }, null, 2)}\n`,
);
writeFileSync(
  svg,
  latencySvg(
    `Start flow latency: ${options.rate} results/s, a ${options.periodS} s schedule`,
    results.map((r) => ({
      label: `${r.mode} mode (timeout ${r.timeoutMs / 1_000} s): p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms`,
      samples: r.samples,
      handoversS: r.handoversS,
      ...(r.mode === 'follow' ? { targetMs: LATENCY_TARGETS.p99Ms } : {}),
    })),
  ),
);
console.log(`\nWrote ${json} and ${svg}`);
if (results.some((r) => r.notApplied > 0 || r.appliedTwice > 0)) process.exitCode = 1;
