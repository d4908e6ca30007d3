/**
 * One benchmark run of one consumer configuration: fresh tables and stream keys, the
 * backlog seeded, the real handler drained in a child process, and everything counted on
 * the way: Upstash requests at the REST server, DynamoDB requests at a proxy in front of
 * DynamoDB Local, Game Master calls at the stub, offset commits as they reach DynamoDB,
 * CPU per process.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Redis } from 'ioredis';
import { ConsumerMode } from '../functions/runtime-job-results/environment.js';
import { consumerEnv, prefixedStreams } from '../local/consumer-env.js';
import { startDynamoDbProxy } from '../local/dynamodb-proxy.js';
import { startUpstashProxy } from '../local/upstash-proxy.js';
import { createGamesTable, createOffsetsTable, deleteTable, localDynamoDbClient } from '../local/tables.js';
import { connectRedis } from '../local/upstash-redis.js';
import { compareEntryIds } from '../functions/runtime-job-results/domain/entry-id.js';
import { buildBacklog } from './backlog.js';
import type { Backlog } from './backlog.js';
import { machineBusyCpuMs, ownCpuMs, processCpuMs, processGroupCpuMs, processUsage } from './cpu.js';
import { createCpuQuota, lambdaVcpus } from './cpu-quota.js';
import type { CpuQuota } from './cpu-quota.js';
import { startDrainChild } from './drain-process.js';
import type { DrainChild, DrainReport } from './drain-process.js';
import type { HandlerNode } from './handler-node.js';
import { readFinalState } from './final-state.js';
import type { FinalState } from './final-state.js';
import { recordOffsetCommits } from './offset-commits.js';
import type { OffsetCommit, OffsetCommitRecorder } from './offset-commits.js';
import { silentProgress } from './progress.js';
import type { Progress } from './progress.js';
import { addResults, configureGameMaster, putGames } from './seed-backlog.js';
import type { BenchStack } from './stack.js';

export type ConsumerModeName = (typeof ConsumerMode)[keyof typeof ConsumerMode];

/** The pretend Lambda timeout of each invocation: a drain-mode function's on the one-minute schedule. */
const INVOCATION_TIMEOUT_MS = 50_000;

export interface ModeSpec {
  readonly mode: ConsumerModeName;
  /** How many backlog entries to put on the stream: all, or a prefix (a seed-mode sample). */
  readonly entries: number;
  /** Extra handler variables (`BATCH_SIZE`, `MAX_CONCURRENCY`, …). */
  readonly env?: Readonly<Record<string, string>>;
  /** Variables of the drain child's process itself (tracing's: see `DrainChildOptions`). */
  readonly processEnv?: Readonly<Record<string, string>>;
  /** A label for progress lines; the mode by default. */
  readonly label?: string;
  /**
   * A burst instead of a backlog: the child starts on an empty stream and keeps invoking
   * (a follower, with `POLL_INTERVAL_MS` in `env`); after `settleMs` the entries are added
   * in one pipelined burst, and the run ends when the offset has passed the last of them.
   */
  readonly burst?: { readonly settleMs: number; readonly timeoutMs: number };
}

export interface ModeContext {
  readonly stack: BenchStack;
  readonly backlog: Backlog;
  /** The bundled drain child (bench/drain-process.ts). */
  readonly drainChild: string;
  readonly progress: Progress;
  /** Emulated network round trip added to every request (ms); none by default. */
  readonly addedLatencyMs?: { readonly dynamodb?: number; readonly upstash?: number };
  /**
   * Run the child as a Lambda function of this memory size: its heap limits, and its CPU
   * share through a cgroup quota where the machine allows one. Unset: the deployed
   * default's heap limits and the whole machine's CPU.
   */
  readonly lambdaMemoryMb?: number;
  /** The Node.js that runs the child (bench/handler-node.ts); the bench's own when unset. */
  readonly node?: HandlerNode;
}

/** The Lambda size a run emulated, and whether its CPU share could be enforced. */
export interface LambdaSize {
  readonly memoryMb: number;
  readonly vcpus: number;
  /** How the quota was enforced, or undefined when it could not be. */
  readonly quota?: string;
  /** Why no quota was applied (the run then had the whole machine). */
  readonly unavailable?: string;
  /** Time the quota held the child back during the drain. */
  readonly throttledMs?: number;
  readonly throttledPeriods?: number;
  readonly periods?: number;
}

/** CPU ms used during the drain, by whom. */
export interface CpuBreakdown {
  /** The handler process. */
  readonly consumer: number;
  /** This process: Upstash REST server, DynamoDB proxy, Game Master stub. */
  readonly benchProcess: number;
  readonly dynamodbLocal: number;
  readonly redis: number;
  /** Every core of the machine together, everyone's work included. */
  readonly machine: number;
}

/** Taken at each offset commit: how far the drain was, and the child's CPU so far. */
export interface DrainSample {
  readonly atMs: number;
  readonly entriesDone: number;
  /** The child's CPU since it started (all its threads, from `/proc`). */
  readonly childCpuMs: number;
}

export interface ModeRun {
  readonly spec: ModeSpec;
  readonly entryIds: readonly string[];
  /** Epoch ms when the child was told to start. */
  readonly goAtMs: number;
  readonly report: DrainReport;
  readonly upstashRequests: number;
  /** DynamoDB requests by operation. */
  readonly dynamodbRequests: Readonly<Record<string, number>>;
  readonly gameMasterCalls: number;
  readonly commits: readonly OffsetCommit[];
  /** One per offset commit, for the figures of the drain's second half (a warm handler). */
  readonly samples: readonly DrainSample[];
  readonly cpuMs: CpuBreakdown;
  readonly finalState: FinalState;
  readonly lambda?: LambdaSize;
}

interface CpuSnapshot {
  readonly bench: number;
  readonly dynamodbLocal: number;
  readonly redis: number;
  readonly machine: number;
}

const cpuSnapshot = (stack: BenchStack): CpuSnapshot => ({
  bench: ownCpuMs(),
  dynamodbLocal:
    stack.processGroups.dynamodbLocal === undefined ? Number.NaN : processGroupCpuMs(stack.processGroups.dynamodbLocal),
  redis: stack.processGroups.redis === undefined ? Number.NaN : processGroupCpuMs(stack.processGroups.redis),
  machine: machineBusyCpuMs(),
});

const countsDelta = (after: Record<string, number>, before: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(after).map(([operation, count]) => [operation, count - (before[operation] ?? 0)]));

/** Runs `spec` on a fresh copy of the backlog and cleans up after itself. */
export const runMode = async (context: ModeContext, spec: ModeSpec): Promise<ModeRun> => {
  const { stack, backlog, progress } = context;
  const label = spec.label ?? spec.mode;
  const prefix = `bench-${spec.mode}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const gamesTable = `${prefix}-games`;
  const offsetsTable = `${prefix}-offsets`;
  const streams = prefixedStreams(prefix);
  const dynamodb = localDynamoDbClient(stack.dynamodbEndpoint);
  const documents = DynamoDBDocumentClient.from(dynamodb);
  let redis: Redis | undefined;
  let child: DrainChild | undefined;
  const positions = new Map<string, number>();
  const samples: DrainSample[] = [];
  const recorder = recordOffsetCommits(offsetsTable, (commit) => {
    const entriesDone = (positions.get(commit.lastEntryId) ?? -1) + 1;
    progress.update(entriesDone);
    if (child?.pid !== undefined) {
      samples.push({ atMs: Date.now(), entriesDone, childCpuMs: processCpuMs(child.pid) });
    }
  });
  const dynamodbDelayMs = context.addedLatencyMs?.dynamodb ?? 0;
  const proxy = await startDynamoDbProxy(stack.dynamodbEndpoint, async (call) => {
    const action = await recorder.hook(call);
    return action.kind === 'forward' && dynamodbDelayMs > 0 ? { ...action, delayMs: dynamodbDelayMs } : action;
  });
  const upstashDelayMs = context.addedLatencyMs?.upstash ?? 0;
  const upstashProxy =
    upstashDelayMs > 0
      ? await startUpstashProxy(stack.upstashUrl, () => ({ kind: 'forward', delayMs: upstashDelayMs }))
      : undefined;
  let quota: CpuQuota | undefined;
  let lambda: LambdaSize | undefined;
  if (context.lambdaMemoryMb !== undefined) {
    const vcpus = lambdaVcpus(context.lambdaMemoryMb);
    const made = createCpuQuota(vcpus);
    quota = made.quota;
    lambda = { memoryMb: context.lambdaMemoryMb, vcpus, quota: made.quota?.description, unavailable: made.unavailable };
    if (made.unavailable !== undefined) {
      console.error(`${label}: NO CPU QUOTA — this run has the whole machine's CPU (${made.unavailable})`);
    }
  }
  try {
    await Promise.all([createGamesTable(dynamodb, gamesTable), createOffsetsTable(dynamodb, offsetsTable)]);
    progress.start(`${label}: creating games`, backlog.games.length);
    await putGames(documents, gamesTable, backlog, (written) => progress.update(written));
    progress.stop();
    configureGameMaster(stack.gameMaster, backlog);

    const env: Record<string, string> = {
      ...consumerEnv({
        streams,
        upstash: { url: upstashProxy?.url ?? stack.upstashUrl, token: stack.upstashToken },
        gamesTable,
        offsetsTable,
        dynamodbEndpoint: proxy.endpoint,
        gameMasterUrl: stack.gameMaster.baseUrl,
      }),
      CONSUMER_MODE: spec.mode,
      // The deployed level (cdk.json): per-entry lines are part of the cost.
      POWERTOOLS_LOG_LEVEL: 'INFO',
      ...spec.env,
    };
    // Generous: seed mode does about 40 s of work per invocation; a consumer stuck on
    // transient errors fails the run here instead of looping.
    child = startDrainChild(
      context.drainChild,
      {
        env,
        timeoutMs: INVOCATION_TIMEOUT_MS,
        maxInvocations: 1_000,
        ...(spec.burst === undefined ? {} : { until: 'stopped' as const }),
      },
      {
        ...(context.lambdaMemoryMb === undefined ? {} : { memoryMb: context.lambdaMemoryMb }),
        ...(context.node === undefined ? {} : { execPath: context.node.path }),
        ...(quota === undefined ? {} : { cpuQuota: quota }),
        ...(spec.processEnv === undefined ? {} : { processEnv: spec.processEnv }),
      },
    );
    await child.ready;

    redis = await connectRedis(stack.redis.host, stack.redis.port, stack.redis.password);
    let entryIds: string[] = [];
    let goAtMs: number;
    let report: DrainReport;
    let cpuBefore: CpuSnapshot;
    let throttlingBefore = quota?.throttling();
    const upstashBefore = stack.upstashRequestCount();
    const dynamodbBefore = proxy.counts();
    const gameMasterBefore = stack.gameMaster.calls().length;
    if (spec.burst === undefined) {
      entryIds = await addResults(redis, streams.results, backlog, spec.entries);
      for (const [index, id] of entryIds.entries()) positions.set(id, index);
      cpuBefore = cpuSnapshot(stack);
      goAtMs = Date.now();
      progress.start(`${label}: draining`, entryIds.length);
      child.go();
      report = await child.report;
    } else {
      // The follower is up and polling an empty stream before the burst arrives.
      child.go();
      await sleep(spec.burst.settleMs);
      const childBefore = processUsage(child.pid ?? -1);
      throttlingBefore = quota?.throttling();
      cpuBefore = cpuSnapshot(stack);
      goAtMs = Date.now();
      progress.start(`${label}: burst`, spec.entries);
      entryIds = await addResults(redis, streams.results, backlog, spec.entries);
      for (const [index, id] of entryIds.entries()) positions.set(id, index);
      await offsetPassed(recorder, entryIds.at(-1) ?? '', spec.burst.timeoutMs, child.report);
      const childAfter = processUsage(child.pid ?? -1);
      report = {
        type: 'done',
        invocations: [],
        drainMs: Date.now() - goAtMs,
        maxRssKb: childAfter.maxRssKb,
        cpuMs: { user: childAfter.cpuMs - childBefore.cpuMs, system: 0 },
      };
    }
    progress.stop();
    const throttlingAfter = quota?.throttling();
    if (lambda !== undefined && throttlingBefore !== undefined && throttlingAfter !== undefined) {
      lambda = {
        ...lambda,
        throttledMs: Math.round(throttlingAfter.throttledMs - throttlingBefore.throttledMs),
        throttledPeriods: throttlingAfter.throttledPeriods - throttlingBefore.throttledPeriods,
        periods: throttlingAfter.periods - throttlingBefore.periods,
      };
    }
    const cpuAfter = cpuSnapshot(stack);
    const upstashRequests = stack.upstashRequestCount() - upstashBefore;
    const dynamodbRequests = countsDelta(proxy.counts(), dynamodbBefore);
    const gameMasterCalls = stack.gameMaster.calls().length - gameMasterBefore;

    const commits = recorder.commits();
    const lastId = entryIds.at(-1);
    if (lastId !== undefined && !commits.some((commit) => commit.lastEntryId === lastId)) {
      throw new Error(`${label}: the handler reported drained but the offset never reached the last entry ${lastId}`);
    }
    const finalState = await readFinalState({ documents, gamesTable, redis, streams, entryIds });
    return {
      spec,
      entryIds,
      goAtMs,
      report,
      upstashRequests,
      dynamodbRequests,
      gameMasterCalls,
      commits,
      samples,
      cpuMs: {
        consumer: report.cpuMs.user + report.cpuMs.system,
        benchProcess: cpuAfter.bench - cpuBefore.bench,
        dynamodbLocal: cpuAfter.dynamodbLocal - cpuBefore.dynamodbLocal,
        redis: cpuAfter.redis - cpuBefore.redis,
        machine: cpuAfter.machine - cpuBefore.machine,
      },
      finalState,
      ...(lambda === undefined ? {} : { lambda }),
    };
  } finally {
    child?.stop();
    // The child is gone (or going): the cgroup can be emptied and removed.
    if (quota !== undefined) {
      await child?.report.catch(() => undefined);
      quota.remove();
    }
    progress.stop();
    await redis?.del(...Object.values(streams)).catch(() => undefined);
    redis?.disconnect();
    await proxy.close();
    await upstashProxy?.close();
    await Promise.allSettled([deleteTable(dynamodb, gamesTable), deleteTable(dynamodb, offsetsTable)]);
    dynamodb.destroy();
  }
};

/**
 * Resolves once an offset commit at or past `lastId` has been applied; rejects after
 * `timeoutMs`, or if the child ends first.
 */
const offsetPassed = async (
  recorder: OffsetCommitRecorder,
  lastId: string,
  timeoutMs: number,
  childEnded: Promise<unknown>,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  let ended: unknown;
  childEnded.then(
    () => {
      ended = new Error('the follower ended before the burst was done');
    },
    (error: unknown) => {
      ended = error;
    },
  );
  while (!recorder.commits().some((commit) => compareEntryIds(commit.lastEntryId, lastId) >= 0)) {
    if (ended !== undefined) throw ended;
    if (Date.now() > deadline) throw new Error(`the offset did not pass ${lastId} within ${timeoutMs} ms`);
    await sleep(20);
  }
};

/**
 * An untimed default-mode drain of a small backlog: DynamoDB Local (a JVM) and the stack's
 * servers warm up on it, so the first measured mode does not pay for their start.
 */
export const warmUp = async (context: Omit<ModeContext, 'backlog' | 'progress'>, entries: number): Promise<void> => {
  if (entries <= 0) return;
  const backlog = buildBacklog({ entries, gmFailureRate: 0.1, seed: 'warm-up' });
  await runMode({ ...context, backlog, progress: silentProgress }, { mode: ConsumerMode.batched, entries });
};
