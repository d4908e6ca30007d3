/**
 * How much runs at once and how long a retry waits: lanes of different games never exceed
 * `MAX_CONCURRENCY`, and an entry retried in the same invocation waits `RETRY_BACKOFF_MS`,
 * doubling per try, with jitter (between half the nominal wait and all of it), so retries
 * of entries that failed together do not come back together.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runInvocation } from '../../functions/runtime-job-results/consumer/run-invocation.js';
import { StartFlow } from '../../functions/runtime-job-results/start-flow/start-flow.js';
import { forward, gameIdOf, internalError } from '../../local/dynamodb-proxy.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import {
  FakeGameMaster,
  FakeGameStore,
  FakeOffsetStore,
  FakePublisher,
  FakeResultStream,
  RecordingLog,
  RecordingTelemetry,
} from '../support/fakes.js';
import { successFields } from './support/hooks.js';

describe('MAX_CONCURRENCY', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ MAX_CONCURRENCY: '3' });
  });
  afterAll(async () => {
    await h.cleanup();
  });

  it('never has more games in flight than MAX_CONCURRENCY', async () => {
    const ids = Array.from({ length: 9 }, (_, i) => `cap-${i}`);
    for (const id of ids) {
      await h.putGame({ gameId: id, status: 'starting' });
      await h.addResult(successFields(id));
    }
    // Each registration takes a while, so lanes overlap for as long as the cap allows.
    h.gameMaster.setDefaultBehaviour({ kind: 'slow', delayMs: 400 });
    let most = 0;
    const watch = setInterval(() => {
      most = Math.max(most, h.gameMaster.calls().filter((call) => call.status === null).length);
    }, 10);
    try {
      expect(await h.invoke()).toMatchObject({ stoppedBy: 'drained', applied: ids.length });
    } finally {
      clearInterval(watch);
    }
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThan(1);
    for (const id of ids) expect(h.gameMaster.callsFor(id)).toHaveLength(1);
  });
});

describe('the in-invocation backoff schedule', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({ RETRY_BACKOFF_MS: '400', ATTEMPTS_PER_INVOCATION: '3', MAX_ATTEMPTS: '5' });
  });
  afterAll(async () => {
    await h.cleanup();
  });

  it('waits at least half of RETRY_BACKOFF_MS, then at least half of twice that, between tries', async () => {
    await h.putGame({ gameId: 'backoff', status: 'starting' });
    const entryId = await h.addResult({ game_id: 'backoff', outcome: 'failure' });
    // The SDK makes three attempts per try: the first two tries fail, the third succeeds.
    const seen: number[] = [];
    h.proxy.setHook((call) => {
      if (call.tableName !== h.gamesTable || gameIdOf(call) !== 'backoff') return forward;
      seen.push(Date.now());
      return seen.length <= 6 ? internalError : forward;
    });
    expect(await h.invoke()).toMatchObject({ stoppedBy: 'drained', applied: 1, lastEntryId: entryId });
    expect(seen).toHaveLength(7);
    const gap = (from: number, to: number) => (seen[to] as number) - (seen[from] as number);
    // Between the last attempt of one try and the first of the next: the consumer's backoff.
    expect(gap(2, 3)).toBeGreaterThanOrEqual(200);
    expect(gap(5, 6)).toBeGreaterThanOrEqual(400);
  });
});

describe('jitter', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const sleepsWith = async (random: number): Promise<number[]> => {
    vi.spyOn(Math, 'random').mockReturnValue(random);
    const games = new FakeGameStore();
    games.put({ gameId: 'a', status: 'starting' });
    games.faults.updateStatus = { error: new Error('socket hang up'), times: 2 };
    const stream = new FakeResultStream();
    stream.add('1-0', { game_id: 'a', outcome: 'failure' });
    const publisher = new FakePublisher();
    const log = new RecordingLog();
    const telemetry = new RecordingTelemetry();
    const flow = new StartFlow({
      games,
      gameMaster: new FakeGameMaster(),
      publisher,
      streams: { stopJobs: 'stop', notificationIntents: 'intents', deadLetters: 'dead' },
      log,
      telemetry,
      nowMs: () => 10_000,
    });
    const sleeps: number[] = [];
    await runInvocation({
      offsets: new FakeOffsetStore(),
      stream,
      publisher,
      games,
      process: (entry, hints) => flow.process(entry, hints),
      giveUp: (entry, attempts) => flow.giveUp(entry, attempts),
      settings: {
        batchSize: 10,
        prefetch: false,
        maxConcurrency: 1,
        maxAttempts: 5,
        timeBudgetMarginMs: 0,
        attemptsPerInvocation: 3,
        retryBackoffMs: 100,
        deadLetterStream: 'dead',
      },
      log,
      telemetry,
      invocationId: 'jitter',
      nowMs: () => 10_000,
      remainingMs: () => 60_000,
      sleep: async (ms) => void sleeps.push(ms),
    });
    return sleeps;
  };

  it('spreads each wait between half the nominal backoff and all of it', async () => {
    expect(await sleepsWith(0)).toEqual([50, 100]);
    expect(await sleepsWith(0.5)).toEqual([75, 150]);
    expect(await sleepsWith(0.999)).toEqual([expect.closeTo(100, 0), expect.closeTo(200, 0)]);
  });
});
