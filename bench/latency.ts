/**
 * The latency benchmark of one mode: results arrive as a steady trickle while invocations
 * start on a scaled-down schedule, each in its own process as Lambda would run it (a cold
 * start every tick, the worst case). In follow mode the function timeout outlasts the
 * period, so each invocation waits for the one before and takes over from it.
 *
 * Latency is the time from an entry's id (when it was added) to its game's status change
 * (`statusChangedAt`, written by the consumer on this machine's clock). After the trickle,
 * an idle window counts the consumer's Upstash and DynamoDB requests.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { CONSUMER_LABEL } from '../functions/runtime-job-results/adapters/dynamodb-offset-store.js';
import type { InvocationSummary } from '../functions/runtime-job-results/consumer/run-invocation.js';
import { entryAgeMs } from '../functions/runtime-job-results/domain/entry-id.js';
import { spawnInvocation } from '../local/child-invocation.js';
import type { ChildInvocation } from '../local/child-invocation.js';
import { consumerEnv, prefixedStreams } from '../local/consumer-env.js';
import { startDynamoDbProxy } from '../local/dynamodb-proxy.js';
import type { LocalStack } from '../local/stack.js';
import { createGamesTable, createOffsetsTable, deleteTable, localDynamoDbClient } from '../local/tables.js';
import { connectRedis } from '../local/upstash-redis.js';
import { quantile, round } from './stats.js';

export type LatencyMode = 'follow' | 'drain';

export interface LatencyOptions {
  /** Results added per second. */
  readonly rate: number;
  /** Seconds of trickle. */
  readonly durationS: number;
  /** Seconds of the idle window after it. */
  readonly idleS: number;
  /** The scaled-down schedule period, seconds. */
  readonly periodS: number;
  /** `POLL_INTERVAL_MS` in follow mode. */
  readonly pollIntervalMs: number;
  /** `TIME_BUDGET_MARGIN_MS`. */
  readonly marginMs: number;
  /** Follow mode: seconds by which the next invocation starts before the holder stops. */
  readonly handoverS: number;
  /** Schedule period of the idle window, seconds (the stack's, so hand-overs count as often). */
  readonly idlePeriodS: number;
  /** `scripts/invoke.ts` bundled like the Lambda: children start as fast as a cold start. */
  readonly invokeBundle: string;
}

export interface InvocationRecord {
  /** Seconds since the run started. */
  readonly startS: number;
  readonly endS: number;
  readonly summary: InvocationSummary | undefined;
}

export interface LatencyModeResult {
  readonly mode: LatencyMode;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly entries: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Each entry: seconds after the run started that it was added, and its latency. */
  readonly samples: readonly (readonly [number, number])[];
  readonly invocations: readonly InvocationRecord[];
  /** Moments (seconds) a following invocation took over from the one before. */
  readonly handoversS: readonly number[];
  /** Invocations that returned `handed_over`: asked for the lease, they let go of it. */
  readonly handedOver: number;
  /** How long the invocations that waited for the lease waited (`handoverWaitMs`). */
  readonly leaseWaitMs: { readonly p50: number; readonly max: number; readonly count: number };
  /** Share of the invocations' summed run time during which two or more ran at once. */
  readonly overlapShare: number;
  /** Seconds two invocations ran at once, per hand-over: at a period P, the overlap is this / P. */
  readonly overlapPerHandoverS: number;
  /** The consumer's requests per minute while the results trickled in. */
  readonly busy: { readonly upstashPerMinute: number; readonly dynamodbPerMinute: number };
  /** Steady latency: the entries after the first second of the trickle. */
  readonly steadyLatencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /**
   * The first second of the trickle: the consumer had been idle (backed off to
   * `POLL_IDLE_MAX_MS`) since its start, as after any quiet spell.
   */
  readonly wakeUpMaxMs: number;
  /** Mid-invocation: from the hand-over's end to just before the next tick. */
  readonly idle: {
    readonly windowS: number;
    readonly upstashPerMinute: number;
    readonly dynamodbPerMinute: number;
  };
  /** The idle window's hand-over: the consumer's requests from the tick to its settling. */
  readonly handoverRequests: { readonly upstash: number; readonly dynamodb: number };
  /** Games not `running` at the end (skipped entries). */
  readonly notApplied: number;
  /** Games registered with Game Master more than once (an entry applied twice). */
  readonly appliedTwice: number;
}

/** The idle window's hand-over is over this long after its tick (the asker's cold start included). */
const HANDOVER_SETTLE_MS = 4_000;

/** Drain mode keeps this much of the period free after its timeout, as the stack does. */
const DRAIN_HEADROOM_MS = 2_000;

/** The function timeout of a mode, by the stack's rule at this period. */
const timeoutOf = (mode: LatencyMode, options: LatencyOptions, periodS = options.periodS): number =>
  mode === 'follow'
    ? periodS * 1_000 + options.marginMs + options.handoverS * 1_000
    : periodS * 1_000 - DRAIN_HEADROOM_MS;

const success = (gameId: string): string[] => [
  'game_id',
  gameId,
  'outcome',
  'success',
  'container_id',
  `container-${gameId}`,
  'engine_endpoint',
  `http://engine-${gameId}.galaxy.internal:8080`,
];

export const runLatencyMode = async (
  stack: LocalStack,
  mode: LatencyMode,
  options: LatencyOptions,
  progress: (line: string) => void,
): Promise<LatencyModeResult> => {
  const name = `lat-${mode}-${Date.now()}`;
  const dynamodb = localDynamoDbClient(stack.dynamodb.endpoint);
  const documents = DynamoDBDocumentClient.from(dynamodb);
  const gamesTable = `${name}-games`;
  const offsetsTable = `${name}-offsets`;
  await createGamesTable(dynamodb, gamesTable);
  await createOffsetsTable(dynamodb, offsetsTable);
  const proxy = await startDynamoDbProxy(stack.dynamodb.endpoint);
  const redis = await connectRedis(stack.redis.host, stack.redis.port, stack.redis.password);
  const streams = prefixedStreams(name);
  const timeoutMs = timeoutOf(mode, options);
  const env = {
    ...consumerEnv({
      streams,
      upstash: { url: stack.upstash.url, token: stack.upstash.token },
      gamesTable,
      offsetsTable,
      // Through a proxy that counts the consumer's requests; the bench's own go direct.
      dynamodbEndpoint: proxy.endpoint,
      gameMasterUrl: stack.gameMaster.baseUrl,
    }),
    POLL_INTERVAL_MS: mode === 'follow' ? String(options.pollIntervalMs) : '0',
    TIME_BUDGET_MARGIN_MS: String(options.marginMs),
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };

  const count = Math.round(options.rate * options.durationS);
  const gameIds = Array.from({ length: count }, (_, i) => `${name}-${i}`);
  for (const gameId of gameIds) {
    await documents.send(
      new PutCommand({
        TableName: gamesTable,
        Item: { gameId, status: 'starting', gameName: gameId, targetEngineVersion: '1.9.0', turnSchedule: '0 * * * *' },
      }),
    );
  }

  const t0 = Date.now();
  const seconds = (at: number): number => round((at - t0) / 1_000, 3);
  const invocations: InvocationRecord[] = [];
  const live = new Set<ChildInvocation>();
  const tick = (invocationTimeoutMs = timeoutMs): void => {
    const startedAt = Date.now();
    const child = spawnInvocation(env, invocationTimeoutMs, [options.invokeBundle]);
    live.add(child);
    void child.ended.then((ending) => {
      live.delete(child);
      invocations.push({ startS: seconds(startedAt), endS: seconds(Date.now()), summary: ending.summary });
      const s = ending.summary;
      progress(
        `  ${mode}: invocation ${seconds(startedAt)}–${seconds(Date.now())} s ` +
          (s
            ? `${s.stoppedBy}, ${s.applied} applied${s.handoverWaitMs ? `, waited ${s.handoverWaitMs} ms for the lease` : ''}`
            : `ended by ${ending.signal ?? ending.code}`),
      );
    });
  };
  tick();
  let schedule = setInterval(tick, options.periodS * 1_000);

  // The trickle starts once the first invocation is up (its cold start is not a result's wait).
  await sleep(options.handoverS * 1_000);
  const dynamodbCount = (): number => Object.values(proxy.counts()).reduce((sum, n) => sum + n, 0);
  const added: { gameId: string; entryId: string }[] = [];
  const intervalMs = 1_000 / options.rate;
  const trickleStart = Date.now();
  const busyStart = { upstash: stack.upstash.server.requestCount(), dynamodb: dynamodbCount() };
  for (const [i, gameId] of gameIds.entries()) {
    const due = trickleStart + i * intervalMs;
    if (due > Date.now()) await sleep(due - Date.now());
    const entryId = String(await redis.xadd(streams.results, '*', ...success(gameId)));
    added.push({ gameId, entryId });
  }
  const busyMinutes = (Date.now() - trickleStart) / 60_000;
  const busy = {
    upstashPerMinute: round((stack.upstash.server.requestCount() - busyStart.upstash) / busyMinutes),
    dynamodbPerMinute: round((dynamodbCount() - busyStart.dynamodb) / busyMinutes),
  };
  progress(`  ${mode}: ${added.length} results added over ${round((Date.now() - trickleStart) / 1_000)} s; idle now`);

  // Idle: once the last result is applied (drain mode: at the next tick), count the consumer's requests for a window
  // on the stack's schedule: the next tick's invocation (timed for that period) takes over
  // and the window starts with it, so it holds as many hand-overs as a real idle minute.
  const lastEntryId = added.at(-1)?.entryId;
  for (let waited = 0; waited < 3 * options.periodS * 1_000; waited += 250) {
    const offset = await documents.send(
      new GetCommand({ TableName: offsetsTable, Key: { consumer: CONSUMER_LABEL }, ConsistentRead: true }),
    );
    if (offset.Item?.lastEntryId === lastEntryId) break;
    await sleep(250);
  }
  clearInterval(schedule);
  const idleTimeoutMs = timeoutOf(mode, options, options.idlePeriodS);
  const snapshot = () => ({ at: Date.now(), upstash: stack.upstash.server.requestCount(), dynamodb: dynamodbCount() });
  const handoverStart = snapshot();
  tick(idleTimeoutMs);
  schedule = setInterval(() => tick(idleTimeoutMs), options.idlePeriodS * 1_000);
  await sleep(HANDOVER_SETTLE_MS);
  const idleStart = snapshot();
  // Ends before the next tick, so the window holds no hand-over.
  await sleep(Math.min(options.idleS, options.idlePeriodS) * 1_000 - HANDOVER_SETTLE_MS - 1_000);
  const idleEnd = snapshot();
  clearInterval(schedule);
  const windowS = (idleEnd.at - idleStart.at) / 1_000;
  // The invocations still running are not needed any more; their lease dies with them.
  for (const child of live) child.process.kill('SIGKILL');
  await Promise.all([...live].map((child) => child.ended));

  const games = new Map<string, Record<string, unknown>>();
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(new ScanCommand({ TableName: gamesTable, ExclusiveStartKey: startKey }));
    for (const item of page.Items ?? []) games.set(String(item.gameId), item);
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);

  const samples: [number, number][] = [];
  let notApplied = 0;
  let appliedTwice = 0;
  for (const { gameId, entryId } of added) {
    const game = games.get(gameId);
    if (game?.status !== 'running' || typeof game.statusChangedAt !== 'string') {
      notApplied += 1;
      continue;
    }
    if (stack.gameMaster.callsFor(gameId).length > 1) appliedTwice += 1;
    const changedAt = Date.parse(game.statusChangedAt);
    const latency = entryAgeMs(entryId, changedAt);
    samples.push([seconds(changedAt - latency), latency]);
  }
  const latencies = samples.map(([, ms]) => ms);
  const trickleStartS = seconds(trickleStart);
  const steady = samples.filter(([addedS]) => addedS >= trickleStartS + 1).map(([, ms]) => ms);
  const wakeUp = samples.filter(([addedS]) => addedS < trickleStartS + 1).map(([, ms]) => ms);
  // A following invocation ends by releasing the lease to the one waiting for it.
  const handoversS =
    mode === 'follow'
      ? invocations
          .filter((record) => record.summary !== undefined)
          .map((record) => record.endS)
          .sort((a, b) => a - b)
      : [];

  const waits = invocations.flatMap((record) =>
    record.summary?.handoverWaitMs ? [record.summary.handoverWaitMs] : [],
  );

  redis.disconnect();
  await proxy.close();
  await Promise.all([deleteTable(dynamodb, gamesTable), deleteTable(dynamodb, offsetsTable)]);

  return {
    mode,
    env: { POLL_INTERVAL_MS: env.POLL_INTERVAL_MS, TIME_BUDGET_MARGIN_MS: env.TIME_BUDGET_MARGIN_MS },
    timeoutMs,
    entries: added.length,
    latencyMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: Math.max(...latencies) },
    steadyLatencyMs: { p50: quantile(steady, 0.5), p99: quantile(steady, 0.99), max: Math.max(...steady) },
    wakeUpMaxMs: Math.max(0, ...wakeUp),
    samples,
    invocations: invocations.sort((a, b) => a.startS - b.startS),
    handoversS,
    handedOver: invocations.filter((record) => record.summary?.stoppedBy === 'handed_over').length,
    leaseWaitMs: {
      p50: waits.length > 0 ? quantile(waits, 0.5) : 0,
      max: waits.length > 0 ? Math.max(...waits) : 0,
      count: waits.length,
    },
    overlapShare: overlapShare(invocations),
    overlapPerHandoverS: round(overlapSeconds(invocations) / Math.max(1, invocations.length - 1), 3),
    busy,
    idle: {
      windowS: round(windowS),
      upstashPerMinute: round(((idleEnd.upstash - idleStart.upstash) * 60) / windowS),
      dynamodbPerMinute: round(((idleEnd.dynamodb - idleStart.dynamodb) * 60) / windowS),
    },
    handoverRequests: {
      upstash: idleStart.upstash - handoverStart.upstash,
      dynamodb: idleStart.dynamodb - handoverStart.dynamodb,
    },
    notApplied,
    appliedTwice,
  };
};

type Span = Pick<InvocationRecord, 'startS' | 'endS'>;

/** Seconds during which two or more of `records` ran at once. */
const overlapSeconds = (records: readonly Span[]): number => {
  const edges = records.flatMap((r) => [
    [r.startS, 1],
    [r.endS, -1],
  ]) as [number, number][];
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let last = 0;
  let overlap = 0;
  for (const [at, step] of edges) {
    if (running >= 2) overlap += at - last;
    running += step;
    last = at;
  }
  return overlap;
};

/** The share of the summed run time of `records` during which two or more of them ran. */
export const overlapShare = (records: readonly Span[]): number => {
  const total = records.reduce((sum, r) => sum + (r.endS - r.startS), 0);
  return total > 0 ? round(overlapSeconds(records) / total, 4) : 0;
};
