/**
 * The crash run: the handler in child processes (`node --import tsx scripts/invoke.ts`, as
 * `npm run invoke` runs it) against the stack through the two fault proxies, each child
 * SIGKILLed at its deadline as Lambda would, and some killed at random requests on the way.
 * A kill lands at a request the proxies see, in one of three ways: before the request goes
 * out (never applied), while it is in flight (applied after the process died), or after it
 * was applied but before the answer came back.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { LEASE_CLOCK_SKEW_MS } from '../functions/runtime-job-results/adapters/dynamodb-offset-store.js';
import { createFaultPlan, seededRandom } from '../local/fault-plan.js';
import type { FaultKind, FaultPlanOptions, InjectedFault } from '../local/fault-plan.js';
import type { ProxyAction } from '../local/dynamodb-proxy.js';
import { startUpstashProxy } from '../local/upstash-proxy.js';
import type { UpstashCall, UpstashProxyAction } from '../local/upstash-proxy.js';
import type { GamesTap } from './games-tap.js';
import type { RunResources } from './run-resources.js';
import { readOffsetItem } from './run-state.js';
import type { Scenario } from './scenario.js';

export const KillMode = {
  /** Killed before the request left: it never reaches the server. */
  beforeRequest: 'before_request',
  /** Killed with the request in flight: the server applies it after the process is gone. */
  inFlight: 'in_flight',
  /** Killed after the server applied the request, before the answer reached the process. */
  beforeAnswer: 'before_answer',
} as const;

export type KillMode = (typeof KillMode)[keyof typeof KillMode];

export interface CrashRunOptions {
  readonly kills: number;
  readonly seed: number;
  /** The Lambda timeout each child pretends (`INVOKE_TIMEOUT_MS`); it is killed when it runs out (after its init). */
  readonly invokeTimeoutMs: number;
  readonly timeBudgetMarginMs: number;
  readonly faults: Omit<FaultPlanOptions, 'seed'>;
  /** Chance that a second invocation starts while one runs (an overlapping schedule). */
  readonly overlapChance: number;
  /**
   * Follow mode: children get this `POLL_INTERVAL_MS` and start on a schedule whose period
   * is shorter than their timeout minus the margin, so each waits for the one before and
   * takes over; the random kills land only while two run (during a hand-over), on the
   * older one, the holder. Absent: drain mode, children started one after another.
   */
  readonly followPollIntervalMs?: number;
  /**
   * Follow mode: kills right after an invocation's lease ask was answered, taking turns on the
   * holder (it dies asked, before handing over) and on the asker (it dies with its ask
   * standing, before taking the lease). Counted apart from the random kills.
   */
  readonly askKills?: number;
  /** The run gives up (and reports it) after this long. */
  readonly maxWallMs: number;
  /** Called after each child ends, for progress output. */
  readonly onProgress?: (progress: { invocations: number; kills: number; offset: string | undefined }) => void;
}

export interface CrashRunFigures {
  /** Children started. */
  readonly invocations: number;
  /** How the children ended: `drained`, `time_budget`, `transient_error`, `lease_held`, `failed`, `killed`, `killed_at_deadline`. */
  readonly endings: Readonly<Record<string, number>>;
  /** First line of each failed child's error, numbers and ids blanked, by count. */
  readonly failures: Readonly<Record<string, number>>;
  readonly kills: Readonly<Record<KillMode, number>>;
  /** Follow mode: kills right after an ask, of the holder and of the asker. */
  readonly askKills: { readonly holder: number; readonly asker: number };
  readonly faults: Readonly<Record<FaultKind, number>>;
  readonly injected: readonly InjectedFault[];
  /** Requests the proxies saw from the children. */
  readonly requests: number;
  readonly drained: boolean;
  readonly wallMs: number;
}

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Lambda does not count the init phase against the timeout: a child's context (and so its
 * lease deadline) starts once its modules are loaded, about a second after the spawn. The
 * runner kills it that much after the spawn plus the timeout, so a child is not cut short
 * of the time its own deadline gives it.
 */
const INIT_ALLOWANCE_MS = 1_500;

/** Follow mode: how long before the holder stops the next child is spawned (its init included). */
const FOLLOW_HANDOVER_MS = 2_000;

/**
 * Follow mode's schedule period for children of this timeout and margin. A child waits for
 * the lease only if the holder's expiry leaves it the margin, which takes a period longer
 * than the margin; a short timeout then costs the overlap (gaps), never correctness.
 */
const followPeriodMs = (invokeTimeoutMs: number, marginMs: number): number =>
  Math.max(marginMs + 500, invokeTimeoutMs - marginMs - FOLLOW_HANDOVER_MS);

interface LiveChild {
  readonly process: ChildProcess;
  readonly exited: Promise<void>;
  killedBy: 'random' | 'deadline' | undefined;
}

/** Error texts grouped by shape: ids, numbers and quoted values vary from child to child. */
const failureShape = (stderr: string): string =>
  (
    stderr.split('\n').find((line) => line.startsWith('invocation failed:')) ??
    stderr.trim().split('\n')[0] ??
    'no output'
  )
    .replace(/"[^"]*"/g, '"…"')
    .replace(/\d+(-\d+)?/g, 'N')
    .slice(0, 160);

/**
 * Follow mode's driver: a child every period until the offset reaches the last entry and
 * every kill has landed (a backlog drained before its kill points keeps the schedule going,
 * each remaining kill brought forward to the next hand-over), then the followers still
 * running are let finish (they stop at their deadline minus the margin and release the
 * lease). True when the stream was drained and the lease left free.
 */
const followOnSchedule = async (
  resources: RunResources,
  scenario: Scenario,
  options: CrashRunOptions,
  live: LiveChild[],
  spawnChild: () => void,
  progress: () => { invocations: number; kills: number },
  kills: { readonly left: () => number; readonly bringForward: () => void },
): Promise<boolean> => {
  const started = Date.now();
  const periodMs = followPeriodMs(options.invokeTimeoutMs, options.timeBudgetMarginMs);
  let nextTick = started;
  while (Date.now() - started < options.maxWallMs) {
    const offset = await readOffsetItem(resources);
    options.onProgress?.({ ...progress(), offset: offset?.lastEntryId as string | undefined });
    const caughtUp = offset?.lastEntryId === scenario.lastEntryId;
    if (caughtUp && kills.left() > 0) kills.bringForward();
    if (caughtUp && kills.left() === 0) {
      if (live.length > 0) {
        await Promise.all(live.map((child) => child.exited));
        continue;
      }
      if (offset?.leaseOwner === undefined) return true;
      // A holder killed after the last entry keeps the lease until its deadline; one more
      // invocation takes it then and releases it as it stops.
      const expiresAt = typeof offset?.leaseExpiresAt === 'number' ? offset.leaseExpiresAt : 0;
      if (expiresAt > Date.now()) await sleep(expiresAt - Date.now() + 30);
      spawnChild();
      continue;
    }
    if (Date.now() >= nextTick) {
      spawnChild();
      nextTick += periodMs;
    }
    await Promise.race([...live.map((child) => child.exited), sleep(250)]);
  }
  return false;
};

export const runCrashes = async (
  resources: RunResources,
  tap: GamesTap,
  scenario: Scenario,
  upstashUrl: string,
  options: CrashRunOptions,
): Promise<CrashRunFigures> => {
  const started = Date.now();
  const random = seededRandom(options.seed ^ 0x5bd1e995);
  const plan = createFaultPlan({ ...options.faults, seed: options.seed });
  const following = options.followPollIntervalMs !== undefined;
  const upstashProxy = await startUpstashProxy(upstashUrl);

  // Kill points: request numbers spread over the traffic a quiet run would make (about
  // two requests per entry), so the kills fall all through the backlog.
  const span = Math.max(options.kills * 10, Math.floor(scenario.entries.length * 2 * 0.85));
  const killPoints = Array.from({ length: options.kills }, () => 20 + Math.floor(random() * span)).sort(
    (a, b) => a - b,
  );
  const kills: Record<KillMode, number> = { before_request: 0, in_flight: 0, before_answer: 0 };
  const endings: Record<string, number> = {};
  const failures: Record<string, number> = {};
  const live: LiveChild[] = [];
  let requests = 0;
  let invocations = 0;

  const askKills = { holder: 0, asker: 0 };
  let askKillsLeft = following ? (options.askKills ?? 0) : 0;

  const kill = async (child: LiveChild | undefined): Promise<void> => {
    if (child === undefined) return;
    child.killedBy ??= 'random';
    child.process.kill('SIGKILL');
    await child.exited;
  };
  const killOldest = (): Promise<void> => kill(live[0]);

  /** An ask between two live children: the next ask kill, if any is left, takes its turn. */
  const askKill = (call: UpstashCall): UpstashProxyAction | undefined => {
    const asking = call.commands.some((command) => command[0] === 'SET' && String(command[1]).endsWith(':lease_ask'));
    if (!asking || askKillsLeft === 0 || live.length < 2) return undefined;
    askKillsLeft -= 1;
    const onHolder = (askKills.holder + askKills.asker) % 2 === 0;
    const target = onHolder ? live[0] : live.at(-1);
    if (onHolder) askKills.holder += 1;
    else askKills.asker += 1;
    return { kind: 'forward', after: () => kill(target) };
  };

  /** Counts the request and says whether (and how) it is the next kill point. */
  const killHere = (): KillMode | undefined => {
    requests += 1;
    const next = killPoints[0];
    if (next === undefined || requests < next || live.length === 0) return undefined;
    // Follow mode: kill only during a hand-over, when the next invocation is already waiting.
    if (following && live.length < 2) return undefined;
    killPoints.shift();
    const modes = Object.values(KillMode);
    const mode = modes[Math.floor(random() * modes.length)] as KillMode;
    kills[mode] += 1;
    return mode;
  };

  const killAction = <A>(
    mode: KillMode,
    drop: A,
    forwardWith: (hooks: { before?: () => Promise<void>; after?: () => Promise<void> }) => A,
  ): A | Promise<A> => {
    if (mode === KillMode.beforeRequest) return killOldest().then(() => drop);
    return forwardWith(mode === KillMode.inFlight ? { before: killOldest } : { after: killOldest });
  };

  resources.dynamodbProxy.setHook((call) => {
    const mode = killHere();
    if (mode === undefined) return tap.decorate(call, plan.dynamodb(call));
    return killAction<ProxyAction>(mode, { kind: 'drop' }, (hooks) =>
      tap.decorate(call, { kind: 'forward', ...hooks }),
    );
  });
  upstashProxy.setHook((call) => {
    const afterAsk = askKill(call);
    if (afterAsk !== undefined) return afterAsk;
    const mode = killHere();
    if (mode === undefined) return plan.upstash(call);
    return killAction<UpstashProxyAction>(mode, { kind: 'drop' }, (hooks) => ({ kind: 'forward', ...hooks }));
  });

  const childEnv = {
    ...process.env,
    ...resources.env,
    UPSTASH_REDIS_REST_URL: upstashProxy.url,
    INVOKE_TIMEOUT_MS: String(options.invokeTimeoutMs),
    TIME_BUDGET_MARGIN_MS: String(options.timeBudgetMarginMs),
    POLL_INTERVAL_MS: String(options.followPollIntervalMs ?? 0),
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };

  const count = (table: Record<string, number>, key: string): void => {
    table[key] = (table[key] ?? 0) + 1;
  };

  const spawnChild = (): void => {
    invocations += 1;
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/invoke.ts'], {
      cwd: REPO_ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout = (stdout + chunk.toString('utf8')).slice(-4_096);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4_096);
    });
    // Lambda ends an invocation at its timeout; so does this runner (counted apart).
    const deadline = setTimeout(() => {
      entry.killedBy ??= 'deadline';
      child.kill('SIGKILL');
    }, options.invokeTimeoutMs + INIT_ALLOWANCE_MS);
    const entry: LiveChild = {
      process: child,
      killedBy: undefined,
      exited: new Promise<void>((resolve) => {
        child.once('close', (code) => {
          clearTimeout(deadline);
          live.splice(live.indexOf(entry), 1);
          if (entry.killedBy === 'random') count(endings, 'killed');
          else if (entry.killedBy === 'deadline') count(endings, 'killed_at_deadline');
          else if (code === 0) {
            const line = stdout.split('\n').find((text) => text.startsWith('{"summary"'));
            const summary =
              line === undefined ? undefined : (JSON.parse(line) as { summary: { stoppedBy: string } }).summary;
            count(endings, summary?.stoppedBy ?? 'no_summary');
          } else {
            count(endings, 'failed');
            count(failures, failureShape(stderr));
          }
          resolve();
        });
      }),
    };
    live.push(entry);
  };

  let drained = false;
  try {
    if (following) {
      drained = await followOnSchedule(
        resources,
        scenario,
        options,
        live,
        spawnChild,
        () => ({ invocations, kills: options.kills - killPoints.length }),
        {
          left: () => killPoints.length + askKillsLeft,
          // The next request made during a hand-over kills the holder.
          bringForward: () => killPoints.fill(requests + 1),
        },
      );
    }
    while (!following && Date.now() - started < options.maxWallMs) {
      if (live.length === 0) {
        const offset = await readOffsetItem(resources);
        options.onProgress?.({
          invocations,
          kills: options.kills - killPoints.length,
          offset: offset?.lastEntryId as string | undefined,
        });
        if (offset?.lastEntryId === scenario.lastEntryId && offset.leaseOwner === undefined) {
          drained = true;
          break;
        }
        // Free only once the clock-skew allowance has passed too.
        const leaseExpiresAt =
          typeof offset?.leaseExpiresAt === 'number' ? offset.leaseExpiresAt + LEASE_CLOCK_SKEW_MS : 0;
        // A killed invocation's lease holds until its deadline. Now and then an invocation is
        // started anyway (it must return lease_held); otherwise wait for the lease to free.
        if (leaseExpiresAt > Date.now() && random() >= 0.25) {
          await sleep(leaseExpiresAt - Date.now() + 30);
          continue;
        }
        spawnChild();
        if (random() < options.overlapChance) {
          const overlapAfter = 200 + Math.floor(random() * 1_500);
          setTimeout(() => {
            if (live.length === 1) spawnChild();
          }, overlapAfter).unref();
        }
      }
      await Promise.race([...live.map((child) => child.exited), sleep(250)]);
    }
  } finally {
    for (const child of [...live]) {
      child.killedBy ??= 'deadline';
      child.process.kill('SIGKILL');
    }
    await Promise.all(live.map((child) => child.exited));
    // A request of a killed child may still be on its way through a proxy: let it land.
    await sleep(300);
    resources.dynamodbProxy.setHook(undefined);
    await upstashProxy.close();
  }

  return {
    invocations,
    endings,
    failures,
    kills,
    askKills,
    faults: plan.counts(),
    injected: plan.injected(),
    requests,
    drained,
    wallMs: Date.now() - started,
  };
};
