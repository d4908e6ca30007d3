/**
 * Follow mode and the lease hand-over against in-memory ports on a virtual clock: every
 * sleep moves the clock, so the rules are checked to the millisecond without waiting.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { FollowPacer, idlePollDelayMs } from '../../functions/runtime-job-results/consumer/follow.js';
import { EntryWindow, MAX_WINDOW_ENTRIES } from '../../functions/runtime-job-results/consumer/entry-window.js';
import {
  askPollDelayMs,
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
const deps = (
  id: string,
  timeoutMs: number,
  overrides: Partial<ConsumerSettings> = {},
  games = new FakeGameStore(),
): InvocationDeps => {
  const deadline = clock + timeoutMs;
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

  it('starts at the interval, reads again at once after a full batch, one interval after a short one started, and resets on entries', () => {
    const pacer = new FollowPacer(500, 1_200);
    // Right after taking the lease: the quiet second at the interval, then the back-off.
    expect(pacer.delayAfter({ entries: 0, full: false, startedAtMs: 0 }, 5)).toBe(500);
    expect(pacer.delayAfter({ entries: 0, full: false, startedAtMs: 0 }, 5)).toBe(500);
    expect(pacer.delayAfter({ entries: 0, full: false, startedAtMs: 0 }, 5)).toBe(1_000);
    expect(pacer.delayAfter({ entries: 100, full: true, startedAtMs: 0 }, 50)).toBe(0);
    expect(pacer.delayAfter({ entries: 3, full: false, startedAtMs: 1_000 }, 1_120)).toBe(380);
    // After an entry: the quiet second (two reads at 500 ms), then the back-off.
    expect(pacer.delayAfter({ entries: 0, full: false, startedAtMs: 0 }, 5)).toBe(500);
    expect(pacer.delayAfter({ entries: 0, full: false, startedAtMs: 0 }, 5)).toBe(500);
    expect(pacer.delayAfter({ entries: 0, full: false, startedAtMs: 0 }, 5)).toBe(1_000);
    expect(pacer.emptyPolls).toBe(6);
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

describe('the ask-poll rule', () => {
  it('tries soon after asking, then less often, never more than a second apart', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(askPollDelayMs)).toEqual([100, 150, 225, 338, 506, 759, 1_000, 1_000]);
  });
});

describe('the entry window', () => {
  it("holds a game's entries behind one in its backoff, runs the others, and stops taking entries at its cap", () => {
    const window = new EntryWindow();
    const entry = (id: string, gameId: string) => ({ id, fields: [['game_id', gameId] as const] });
    window.add([entry('1-0', 'a'), entry('2-0', 'b'), entry('3-0', 'a'), entry('4-0', 'c')]);
    const state = { lastEntryId: '0-0', attempts: {} };
    const first = window.round(state, 0);
    const failed = { kind: 'failed', attempts: { attempts: 1, lastError: 'e' } } as const;
    const done = { kind: 'finished_earlier' } as const;
    window.settle(
      first,
      [failed, done, { kind: 'not_started' }, done],
      {
        ...state,
        finished: [
          { first: '2-0', last: '2-0' },
          { first: '4-0', last: '4-0' },
        ],
      },
      () => 500,
      0,
    );
    const settled = {
      lastEntryId: '0-0',
      attempts: {},
      finished: [
        { first: '2-0', last: '2-0' },
        { first: '4-0', last: '4-0' },
      ],
    };
    expect(window.round(settled, 499).runnable).toEqual([]);
    expect(window.untilNextRetryMs(499)).toBe(1);
    expect(window.round(settled, 500).runnable.map((e) => e.id)).toEqual(['1-0', '3-0']);
    expect(window.size).toBe(4);
    window.add(Array.from({ length: MAX_WINDOW_ENTRIES - 4 }, (_, i) => entry(`${10 + i}-0`, `g${i}`)));
    expect(window.hasRoom).toBe(false);
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
  /** Records each lease try's time. */
  const recordTries = (): number[] => {
    const tries: number[] = [];
    const acquire = offsets.acquireLease.bind(offsets);
    offsets.acquireLease = async (owner, expiresAtMs, nowMs) => {
      tries.push(nowMs);
      return acquire(owner, expiresAtMs, nowMs);
    };
    return tries;
  };

  /** A holder that answers an ask `afterMs` later: it lets go of the lease then. */
  const answeringHolder = (afterMs: number): { releasedAt: () => number | undefined } => {
    let releasedAt: number | undefined;
    const ask = stream.askForLease.bind(stream);
    stream.askForLease = async (request) => {
      await ask(request);
      events.push({
        atMs: clock + afterMs,
        run: () => {
          offsets.lease = undefined;
          releasedAt = clock;
        },
      });
    };
    return { releasedAt: () => releasedAt };
  };

  it('asks the holder for the lease and takes it the moment the holder lets go', async () => {
    // The holder's lease outlasts this invocation: only the ask gets it released.
    offsets.lease = { owner: 'holder', expiresAtMs: clock + 120_000 };
    const holder = answeringHolder(700);
    const tries = recordTries();
    addFailure(clock + 2_000, 'g1');
    const start = clock;
    const summary = await runInvocation(deps('next', 60_000));

    expect(stream.asks).toEqual([{ by: 'next', startedAtMs: start }]);
    const releasedAt = holder.releasedAt() as number;
    const takenAt = tries.at(-1) as number;
    expect(releasedAt).toBe(start + 700);
    // The tries after an ask come 100, 150, 225, 337 ms apart: the gap is at most the last.
    expect(takenAt).toBeGreaterThanOrEqual(releasedAt);
    expect(takenAt - releasedAt).toBeLessThanOrEqual(340);
    expect(tries.length).toBeLessThanOrEqual(6);
    expect(summary).toMatchObject({ entriesRead: 1, stoppedBy: 'drained', handoverWaitMs: takenAt - start });
    expect(log.messages()).toContain('offset lease taken over from the previous invocation');
  });

  it("takes a killed holder's lease once it has expired, skew allowance included", async () => {
    const holderExpiry = clock + 20_000;
    offsets.lease = { owner: 'killed', expiresAtMs: holderExpiry };
    addFailure(clock + 1_000, 'g1');
    const summary = await runInvocation(deps('next', 80_000));
    // It asked, nobody answered; the tries go on past the expiry, the last one timed for the
    // end of the skew allowance; this store has none, so a try after the expiry takes it.
    expect(stream.asks).toHaveLength(1);
    expect(summary.handoverWaitMs).toBeGreaterThan(20_000);
    expect(summary.handoverWaitMs).toBeLessThanOrEqual(20_000 + LEASE_CLOCK_SKEW_MS + 1);
    expect(summary).toMatchObject({ entriesRead: 1, stoppedBy: 'drained' });
  });

  it('gives up on a holder that neither answers nor ends within its budget, with few tries; a drain never asks', async () => {
    offsets.lease = { owner: 'holder', expiresAtMs: clock + 60_000 };
    const tries = recordTries();
    const start = clock;
    const summary = await runInvocation(deps('next', 62_000));
    expect(summary.stoppedBy).toBe('lease_held');
    // Patience: one idle poll plus a batch's allowance (1.2 s + 3 s), then it returns.
    expect(summary.handoverWaitMs).toBeGreaterThanOrEqual(settings.pollIdleMaxMs + 3_000);
    expect(summary.handoverWaitMs).toBeLessThanOrEqual(settings.pollIdleMaxMs + 3_000 + 1_000);
    expect(clock - start).toBe(summary.handoverWaitMs);
    expect(tries.length).toBeLessThanOrEqual(12);
    const drain = await runInvocation(deps('drain', 120_000, { pollIntervalMs: 0 }));
    expect(drain.stoppedBy).toBe('lease_held');
    expect(drain).not.toHaveProperty('handoverWaitMs');
    expect(stream.asks.map((ask) => ask.by)).toEqual(['next']);
  });

  it('a holder asked by a newer invocation finishes its round, commits, releases and returns handed_over', async () => {
    for (let i = 1; i <= 3; i += 1) stream.add(`${clock + i}-0`, { game_id: `g${i}`, outcome: 'failure' });
    const start = clock;
    // Asks from before this invocation started, and its own, do not count.
    stream.ask = { by: 'older', startedAtMs: start - 1 };
    events.push({ atMs: start + 3_000, run: () => (stream.ask = { by: 'holder', startedAtMs: start + 3_000 }) });
    events.push({
      atMs: start + 5_000,
      run: () => stream.add(`${start + 5_000}-0`, { game_id: 'g4', outcome: 'failure' }),
    });
    events.push({ atMs: start + 6_000, run: () => (stream.ask = { by: 'newer', startedAtMs: start + 6_000 }) });
    const summary = await runInvocation(deps('holder', 60_000));

    expect(summary).toMatchObject({ stoppedBy: 'handed_over', entriesRead: 4, lastEntryId: `${start + 5_000}-0` });
    // It noticed within one idle poll of the ask.
    expect(clock - (start + 6_000)).toBeLessThanOrEqual(settings.pollIdleMaxMs);
    expect(offsets.lease).toBeUndefined();
    expect(offsets.state.lastEntryId).toBe(`${start + 5_000}-0`);
  });
});

describe('a following invocation past a failing game', () => {
  it("applies the other games' results while one game's writes fail, and that game's after they recover, in order", async () => {
    const start = clock;
    const recoverAt = start + 3_000;
    const games = new FakeGameStore();
    const appliedAt = new Map<string, number>();
    const update = games.updateStatus.bind(games);
    games.updateStatus = async (input) => {
      if (input.gameId === 'bad' && clock < recoverAt) throw new Error('DynamoDB answered 500');
      await update(input);
      appliedAt.set(input.gameId, clock);
    };
    games.put({ gameId: 'bad', status: 'starting' });
    stream.add(`${start}-0`, { game_id: 'bad', outcome: 'failure' });
    // A second result of the failing game waits behind the first.
    stream.add(`${start}-1`, { game_id: 'bad', outcome: 'failure' });
    const others: { gameId: string; addedAt: number }[] = [];
    for (let t = 100; t <= 4_000; t += 300) {
      const gameId = `ok-${t}`;
      games.put({ gameId, status: 'starting' });
      others.push({ gameId, addedAt: start + t });
      events.push({
        atMs: start + t,
        run: () => stream.add(`${start + t}-0`, { game_id: gameId, outcome: 'failure' }),
      });
    }
    const summary = await runInvocation(
      deps('inv-1', 30_000, { retryBackoffMs: 100, maxAttempts: 5, attemptsPerInvocation: 2 }, games),
    );

    for (const { gameId, addedAt } of others) {
      expect(games.status(gameId), gameId).toBe('start_failed');
      expect((appliedAt.get(gameId) as number) - addedAt, gameId).toBeLessThanOrEqual(2_000);
    }
    expect(games.status('bad')).toBe('start_failed');
    expect(appliedAt.get('bad')).toBeGreaterThanOrEqual(recoverAt);
    // Every entry done, the second of the failing game too (ignored: the game had moved on).
    expect(summary).toMatchObject({ stoppedBy: 'drained', entriesRead: 2 + others.length, ignored: 1 });
    expect(offsets.state).toEqual({ lastEntryId: `${start + 4_000}-0`, attempts: {} });
    // While it failed, the offset stayed before it and the games done above it were recorded.
    const during = offsets.commits.find((commit) => commit.finished !== undefined);
    expect(during?.lastEntryId).toBe('0-0');
    expect(during?.attempts[`${start}-0`]?.attempts).toBeGreaterThanOrEqual(1);
    // One range above the failing game's entries, however many rounds added to it.
    expect(offsets.commits.every((commit) => (commit.finished?.length ?? 0) <= 1)).toBe(true);
  });
});
