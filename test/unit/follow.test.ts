/**
 * Follow mode and the lease hand-over against in-memory ports on a virtual clock: every
 * sleep moves the clock, so the rules are checked to the millisecond without waiting.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { FollowPacer, idlePollDelayMs } from '../../functions/runtime-job-results/consumer/follow.js';
import {
  LEASE_POLL_MAX_MS,
  LEASE_POLL_MIN_MS,
  leasePollDelayMs,
} from '../../functions/runtime-job-results/consumer/lease-wait.js';
import { runInvocation } from '../../functions/runtime-job-results/consumer/run-invocation.js';
import { LEASE_CLOCK_SKEW_MS } from '../../functions/runtime-job-results/adapters/dynamodb-offset-store.js';
import type { InvocationDeps } from '../../functions/runtime-job-results/consumer/run-invocation.js';
import type { ConsumerSettings } from '../../functions/runtime-job-results/consumer/settings.js';
import { StartFlow } from '../../functions/runtime-job-results/start-flow/start-flow.js';
import {
  FakeGameMaster,
  FakeGameStore,
  FakeOffsetStore,
  FakePublisher,
  FakeResultStream,
  RecordingLog,
  RecordingTelemetry,
  testSettings,
} from '../support/fakes.js';

const settings = testSettings({ timeBudgetMarginMs: 5_000, pollIntervalMs: 250, pollIdleMaxMs: 1_200 });

let clock: number;
let stream: FakeResultStream;
let offsets: FakeOffsetStore;
let telemetry: RecordingTelemetry;
let log: RecordingLog;
/** Things that happen when the clock passes a moment: results arriving, a holder releasing. */
let events: { atMs: number; run: () => void }[];

const advance = async (ms: number): Promise<void> => {
  const until = clock + ms;
  for (;;) {
    events.sort((a, b) => a.atMs - b.atMs);
    const due = events[0];
    if (due === undefined || due.atMs > until) break;
    events.shift();
    clock = Math.max(clock, due.atMs);
    due.run();
  }
  clock = until;
};

const addFailure = (atMs: number, gameId: string): void => {
  events.push({ atMs, run: () => stream.add(`${atMs}-0`, { game_id: gameId, outcome: 'failure' }) });
};

/** An invocation started now with `timeoutMs` to live. */
const deps = (id: string, timeoutMs: number, overrides: Partial<ConsumerSettings> = {}): InvocationDeps => {
  const deadline = clock + timeoutMs;
  const games = new FakeGameStore();
  const flow = new StartFlow({
    games,
    gameMaster: new FakeGameMaster(),
    publisher: new FakePublisher(),
    streams: { stopJobs: 'stop', notificationIntents: 'intents', deadLetters: 'dead' },
    log,
    telemetry,
    nowMs: () => clock,
  });
  return {
    offsets,
    stream,
    publisher: new FakePublisher(),
    games,
    process: (entry, hints) => flow.process(entry, hints),
    giveUp: (entry, attempts) => flow.giveUp(entry, attempts),
    settings: { ...settings, ...overrides },
    log,
    telemetry,
    invocationId: id,
    nowMs: () => clock,
    remainingMs: () => deadline - clock,
    sleep: advance,
  };
};

beforeEach(() => {
  clock = 1_000_000;
  stream = new FakeResultStream();
  offsets = new FakeOffsetStore();
  telemetry = new RecordingTelemetry();
  log = new RecordingLog();
  events = [];
});

describe('the idle-poll rule', () => {
  it('keeps the interval for a quiet second, then doubles the wait after each empty read up to the ceiling', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => idlePollDelayMs(250, 1_200, n))).toEqual([
      250, 250, 250, 250, 500, 1_000, 1_200, 1_200,
    ]);
    expect([1, 10, 11, 12].map((n) => idlePollDelayMs(100, 1_200, n))).toEqual([100, 100, 200, 400]);
    // An interval above the ceiling is kept as it is.
    expect(idlePollDelayMs(3_000, 1_200, 5)).toBe(3_000);
  });

  it('starts backed off, reads again at once after a full batch, one interval after a short one started, and resets on entries', () => {
    const pacer = new FollowPacer(500, 1_200);
    // Before the first entry: no quiet spell, the back-off starts at once.
    expect(pacer.delayAfter({ entries: 0, full: false, startedAtMs: 0 }, 5)).toBe(1_000);
    expect(pacer.delayAfter({ entries: 0, full: false, startedAtMs: 0 }, 5)).toBe(1_200);
    expect(pacer.delayAfter({ entries: 100, full: true, startedAtMs: 0 }, 50)).toBe(0);
    expect(pacer.delayAfter({ entries: 3, full: false, startedAtMs: 1_000 }, 1_120)).toBe(380);
    // After an entry: the quiet second (two reads at 500 ms), then the back-off.
    expect(pacer.delayAfter({ entries: 0, full: false, startedAtMs: 0 }, 5)).toBe(500);
    expect(pacer.delayAfter({ entries: 0, full: false, startedAtMs: 0 }, 5)).toBe(500);
    expect(pacer.delayAfter({ entries: 0, full: false, startedAtMs: 0 }, 5)).toBe(1_000);
    expect(pacer.emptyPolls).toBe(5);
  });
});

describe('the lease-poll rule', () => {
  it('tries more often as the expected release comes near, and not past the expiry', () => {
    const release = 100_000;
    const expiry = 110_000;
    expect(leasePollDelayMs(release - 60_000, release, expiry)).toBe(LEASE_POLL_MAX_MS);
    expect(leasePollDelayMs(release - 1_000, release, expiry)).toBe(500);
    expect(leasePollDelayMs(release - 50, release, expiry)).toBe(LEASE_POLL_MIN_MS);
    expect(leasePollDelayMs(release + 600, release, expiry)).toBe(300);
    // A holder that never released: the last try is timed for the moment its lease is free.
    expect(leasePollDelayMs(expiry - 700, release, expiry + 1)).toBe(701);
    // Past it, a try that failed met a new holder: no tight loop.
    expect(leasePollDelayMs(expiry + 5, release, expiry + 1)).toBe(LEASE_POLL_MIN_MS);
  });
});

describe('a following invocation', () => {
  it('applies what arrives while it follows and stops keeping the margin, as drained', async () => {
    addFailure(clock + 3_000, 'g1');
    addFailure(clock + 12_345, 'g2');
    const start = clock;
    const summary = await runInvocation(deps('inv-1', 30_000));

    expect(summary).toMatchObject({ entriesRead: 2, stoppedBy: 'drained', lastEntryId: `${start + 12_345}-0` });
    expect(telemetry.entries).toHaveLength(2);
    // It stopped when less than the margin was left, not later.
    expect(clock).toBeLessThanOrEqual(start + 30_000 - settings.timeBudgetMarginMs);
    expect(clock).toBeGreaterThanOrEqual(start + 30_000 - settings.timeBudgetMarginMs - settings.pollIdleMaxMs);
    // Idle reads: one per ceiling (1.2 s) once backed off, plus a quiet second at the
    // interval and the ramp (500, 1,000 ms) at the start and after each of the two entries.
    expect(stream.reads).toBeLessThanOrEqual(Math.ceil(25_000 / 1_200) + 3 * (4 + 2));
    expect(summary.emptyPolls).toBe(stream.reads - 2);
    expect(summary.followedMs).toBe(clock - start);
    expect(summary.handoverWaitMs).toBe(0);
    expect(telemetry.lastFollow).toEqual({
      followedMs: summary.followedMs,
      emptyPolls: summary.emptyPolls,
      handoverWaitMs: 0,
    });
    // The offset is written when it moves, never on an empty read.
    expect(offsets.commits).toHaveLength(2);
    expect(offsets.lease).toBeUndefined();
  });

  it('reads an entry within the interval of its arrival while results trickle in', async () => {
    for (let t = 1_000; t < 20_000; t += 200) addFailure(clock + t, `g${t}`);
    const latencies: { addedAt: number; waited: number }[] = [];
    const seen = new Set<string>();
    const original = stream.readAfter.bind(stream);
    stream.readAfter = async (afterId, count) => {
      const page = await original(afterId, count);
      for (const entry of page.entries) {
        if (seen.has(entry.id)) continue;
        seen.add(entry.id);
        const addedAt = Number(entry.id.split('-')[0]);
        latencies.push({ addedAt, waited: clock - addedAt });
      }
      return page;
    };
    await runInvocation(deps('inv-1', 30_000));
    expect(latencies).toHaveLength(95);
    // Those that arrived during the quiet start wait out the idle back-off; once entries
    // flow, each is read within one interval of its arrival.
    const firstRead = (latencies[0] as { addedAt: number; waited: number }).addedAt + (latencies[0]?.waited ?? 0);
    expect(Math.max(...latencies.map((l) => l.waited))).toBeLessThanOrEqual(settings.pollIdleMaxMs);
    const flowing = latencies.filter((l) => l.addedAt > firstRead);
    expect(flowing.length).toBeGreaterThan(80);
    expect(Math.max(...flowing.map((l) => l.waited))).toBeLessThanOrEqual(settings.pollIntervalMs);
  });

  it('in drain mode (POLL_INTERVAL_MS=0) returns after the read that finds nothing, without follow fields', async () => {
    stream.add(`${clock}-0`, { game_id: 'g1', outcome: 'failure' });
    addFailure(clock + 5_000, 'g2');
    const summary = await runInvocation(deps('inv-1', 30_000, { pollIntervalMs: 0 }));
    expect(summary).toEqual({
      entriesRead: 1,
      applied: 0,
      ignored: 0,
      invalid: 0,
      // No such game.
      deadLettered: 1,
      lastEntryId: `${clock}-0`,
      stoppedBy: 'drained',
    });
    expect(stream.reads).toBe(1);
    expect(telemetry.lastFollow).toBeUndefined();
  });

  it('stops as time_budget when the budget ends with entries left unread', async () => {
    for (let i = 1; i <= 5; i += 1) stream.add(`${i}-0`, { game_id: `g${i}`, outcome: 'failure' });
    const summary = await runInvocation(deps('inv-1', 30_000, { batchSize: 2, prefetch: false }));
    expect(summary.stoppedBy).toBe('drained');
    offsets = new FakeOffsetStore();
    // Only the first batch fits: every batch is full, and the budget is gone after it.
    const tight = deps('inv-2', settings.timeBudgetMarginMs + 1, { batchSize: 2, prefetch: false });
    const process = tight.process;
    const slow = {
      ...tight,
      process: async (...args: Parameters<typeof process>) => {
        await advance(1);
        return process(...args);
      },
    };
    expect((await runInvocation(slow)).stoppedBy).toBe('time_budget');
  });
});

describe('the hand-over', () => {
  it('waits for the holder to release at its stop time and takes the lease with few tries', async () => {
    const holderExpiry = clock + 20_000;
    offsets.lease = { owner: 'holder', expiresAtMs: holderExpiry };
    // The holder stops following at its deadline minus the margin and releases just after.
    events.push({ atMs: holderExpiry - settings.timeBudgetMarginMs + 30, run: () => (offsets.lease = undefined) });
    const tries: number[] = [];
    const acquire = offsets.acquireLease.bind(offsets);
    offsets.acquireLease = async (owner, expiresAtMs, nowMs) => {
      tries.push(nowMs);
      return acquire(owner, expiresAtMs, nowMs);
    };
    const start = clock;
    const summary = await runInvocation(deps('next', 80_000));

    const takenAt = tries.at(-1) as number;
    expect(takenAt).toBeGreaterThanOrEqual(holderExpiry - settings.timeBudgetMarginMs + 30);
    expect(takenAt - (holderExpiry - settings.timeBudgetMarginMs + 30)).toBeLessThanOrEqual(LEASE_POLL_MIN_MS);
    expect(tries.length).toBeLessThanOrEqual(15);
    expect(summary.handoverWaitMs).toBe(takenAt - start);
    expect(summary.stoppedBy).toBe('drained');
    expect(log.messages()).toContain('offset lease taken over from the previous invocation');
  });

  it("takes a killed holder's lease once it has expired, skew allowance included", async () => {
    const holderExpiry = clock + 20_000;
    offsets.lease = { owner: 'killed', expiresAtMs: holderExpiry };
    addFailure(clock + 1_000, 'g1');
    const summary = await runInvocation(deps('next', 80_000));
    // The tries go on past the expiry, the last one timed for the end of the skew allowance;
    // this store has none, so a try after the expiry takes it.
    expect(summary.handoverWaitMs).toBeGreaterThan(20_000);
    expect(summary.handoverWaitMs).toBeLessThanOrEqual(20_000 + LEASE_CLOCK_SKEW_MS + 1);
    expect(summary).toMatchObject({ entriesRead: 1, stoppedBy: 'drained' });
  });

  it('does not wait for a holder that outlasts its own budget, nor in drain mode', async () => {
    offsets.lease = { owner: 'holder', expiresAtMs: clock + 60_000 };
    const summary = await runInvocation(deps('next', 62_000));
    expect(summary).toMatchObject({ stoppedBy: 'lease_held', handoverWaitMs: 0 });
    const drain = await runInvocation(deps('drain', 120_000, { pollIntervalMs: 0 }));
    expect(drain.stoppedBy).toBe('lease_held');
    expect(drain).not.toHaveProperty('handoverWaitMs');
  });
});
