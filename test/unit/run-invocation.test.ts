import { beforeEach, describe, expect, it } from 'vitest';
import { runInvocation } from '../../functions/runtime-job-results/consumer/run-invocation.js';
import type { InvocationDeps } from '../../functions/runtime-job-results/consumer/run-invocation.js';
import { StartFlow } from '../../functions/runtime-job-results/start-flow/start-flow.js';
import { MissingTableError, WriteRejectedError } from '../../functions/runtime-job-results/errors.js';
import type { ConsumerSettings } from '../../functions/runtime-job-results/consumer/settings.js';
import { MAX_FINISHED_RANGES } from '../../functions/runtime-job-results/consumer/offset-progress.js';
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
import type { StoredGame } from '../support/fakes.js';

const settings: ConsumerSettings = testSettings();

let games: FakeGameStore;
let gameMaster: FakeGameMaster;
let publisher: FakePublisher;
let stream: FakeResultStream;
let offsets: FakeOffsetStore;
let log: RecordingLog;
let telemetry: RecordingTelemetry;
let remaining: number;
let invocation = 0;

const deps = (overrides: Partial<InvocationDeps> = {}): InvocationDeps => {
  const flow = new StartFlow({
    games,
    gameMaster,
    publisher,
    streams: { stopJobs: 'stop', notificationIntents: 'intents', deadLetters: 'dead' },
    log,
    telemetry,
    nowMs: () => 10_000,
  });
  invocation += 1;
  return {
    offsets,
    stream,
    publisher,
    games,
    process: (entry, hints) => flow.process(entry, hints),
    giveUp: (entry, attempts) => flow.giveUp(entry, attempts),
    settings,
    log,
    telemetry,
    invocationId: `inv-${invocation}`,
    nowMs: () => 10_000,
    remainingMs: () => remaining,
    sleep: async () => undefined,
    ...overrides,
  };
};

/** DynamoDB refusing a binding for good, as the game store reports it: the orphan path. */
const refusedForGood = (gameId: string): WriteRejectedError =>
  new WriteRejectedError(
    gameId,
    'runtime binding',
    Object.assign(new Error('too large'), { name: 'ValidationException' }),
  );

const addFailure = (id: string, gameId: string) => stream.add(id, { game_id: gameId, outcome: 'failure' });
const addSuccess = (id: string, gameId: string) =>
  stream.add(id, { game_id: gameId, outcome: 'success', container_id: 'c', engine_endpoint: 'http://e' });

beforeEach(() => {
  games = new FakeGameStore();
  gameMaster = new FakeGameMaster();
  publisher = new FakePublisher();
  stream = new FakeResultStream();
  offsets = new FakeOffsetStore();
  log = new RecordingLog();
  telemetry = new RecordingTelemetry();
  remaining = 60_000;
});

describe('invocation: batch loop', () => {
  it('drains the stream, counts each entry once and moves the offset to the last id', async () => {
    for (const id of ['a', 'b', 'c']) games.put({ gameId: id, status: 'starting' });
    addSuccess('1-0', 'a');
    addFailure('2-0', 'b');
    addFailure('3-0', 'zzz');
    stream.add('4-0', { outcome: 'failure' });
    addFailure('5-0', 'a');
    const summary = await runInvocation(deps());
    expect(summary).toEqual({
      entriesRead: 5,
      applied: 2,
      ignored: 1,
      invalid: 1,
      deadLettered: 1,
      lastEntryId: '5-0',
      stoppedBy: 'drained',
    });
    expect(offsets.state.lastEntryId).toBe('5-0');
    expect(offsets.lease).toBeUndefined();
    expect(telemetry.deadLetters).toBe(2);
    expect(telemetry.lastLag).toEqual({ ageMs: 0, entries: 0 });
  });

  it("logs the invocation's CPU time with its summary when the handler gives it", async () => {
    addFailure('1-0', 'a');
    let cpu = 3.2;
    const summary = await runInvocation(
      deps({
        cpuTimeMs: () => {
          cpu += 9.4;
          return cpu;
        },
      }),
    );
    const finished = log.lines.find((line) => line.message === 'runtime job results invocation finished');
    expect(finished).toMatchObject({ ...summary, cpuMs: 13 });
    expect(summary).not.toHaveProperty('cpuMs');

    addFailure('2-0', 'a');
    await runInvocation(deps());
    const lines = log.lines.filter((line) => line.message === 'runtime job results invocation finished');
    expect(lines).toHaveLength(2);
    expect(lines[1]).not.toHaveProperty('cpuMs');
  });

  it('warns and counts when the offset is past the end of an idle stream', async () => {
    addFailure('5-0', 'g');
    offsets.state = { lastEntryId: '9-0', attempts: {} };
    const summary = await runInvocation(deps());
    expect(summary).toMatchObject({ entriesRead: 0, lastEntryId: '9-0', stoppedBy: 'drained' });
    expect(telemetry.offsetAheadCount).toBe(1);
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: 'WARN', last_entry_id: '9-0', stream_last_id: '5-0' }),
    );
  });

  it('records how the invocation ended when it releases the lease', async () => {
    addFailure('1-0', 'g');
    const summary = await runInvocation(deps());
    expect(offsets.lastInvocation).toEqual(summary);
  });

  it('reads batches of BATCH_SIZE and commits after each', async () => {
    for (let i = 1; i <= 7; i += 1) addFailure(`${i}-0`, `g${i}`);
    await runInvocation(deps({ settings: { ...settings, batchSize: 3 } }));
    expect(offsets.commits.map((c) => c.lastEntryId)).toEqual(['3-0', '6-0', '7-0']);
    // The short last batch says the stream is drained: no empty read after it.
    expect(stream.reads).toBe(3);
  });

  it('reads the next batch while the current one is processed', async () => {
    for (let i = 1; i <= 4; i += 1) addFailure(`${i}-0`, `g${i}`);
    const readStarted: string[] = [];
    const readAfter = stream.readAfter.bind(stream);
    stream.readAfter = async (afterId, count) => {
      readStarted.push(`${afterId}@${offsets.commits.length}`);
      return readAfter(afterId, count);
    };
    await runInvocation(deps({ settings: { ...settings, batchSize: 2 } }));
    // The read after 2-0 starts before the first commit; the Go worker's way would wait for it.
    expect(readStarted).toEqual(['0-0@0', '2-0@0', '4-0@1']);
  });

  it('reads one batch at a time without prefetch (seed mode)', async () => {
    for (let i = 1; i <= 2; i += 1) addFailure(`${i}-0`, `g${i}`);
    await runInvocation(deps({ settings: { ...settings, batchSize: 1, maxConcurrency: 1, prefetch: false } }));
    expect(offsets.commits.map((c) => c.lastEntryId)).toEqual(['1-0', '2-0']);
    expect(stream.reads).toBe(3);
  });

  it('applies entries of one game in stream order even with concurrency', async () => {
    games.put({ gameId: 'g', status: 'starting' });
    gameMaster.failing.add('g');
    addSuccess('1-0', 'g');
    addFailure('2-0', 'g');
    await runInvocation(deps({ settings: { ...settings, maxConcurrency: 8 } }));
    // The success paused the game first; the failure then found it not starting.
    expect(games.status('g')).toBe('paused');
  });

  it('returns at once when another invocation holds the lease', async () => {
    offsets.lease = { owner: 'other', expiresAtMs: 99_999 };
    addFailure('1-0', 'g');
    const summary = await runInvocation(deps());
    expect(summary.stoppedBy).toBe('lease_held');
    expect(stream.reads).toBe(0);
    expect(offsets.lease).toEqual({ owner: 'other', expiresAtMs: 99_999 });
  });

  it('takes over a lease that has expired', async () => {
    offsets.lease = { owner: 'dead-invocation', expiresAtMs: 9_999 };
    addFailure('1-0', 'g');
    const summary = await runInvocation(deps());
    expect(summary.stoppedBy).toBe('drained');
  });

  it('stops before the deadline and leaves the rest for the next invocation', async () => {
    for (let i = 1; i <= 5; i += 1) addFailure(`${i}-0`, `g${i}`);
    let calls = 0;
    const summary = await runInvocation(
      deps({
        settings: { ...settings, batchSize: 2 },
        remainingMs: () => {
          calls += 1;
          return calls > 6 ? 500 : 60_000;
        },
      }),
    );
    expect(summary.stoppedBy).toBe('time_budget');
    expect(summary.lastEntryId).not.toBe('5-0');
    expect(telemetry.lastLag?.entries).toBeGreaterThan(0);
  });
});

describe('invocation: transient errors', () => {
  it('keeps the offset before a failing entry and lets other games go on', async () => {
    games.put({ gameId: 'a', status: 'starting' });
    games.put({ gameId: 'b', status: 'starting' });
    addFailure('1-0', 'a');
    addFailure('2-0', 'b');
    addFailure('3-0', 'a');
    games.faults.updateStatus = { error: new Error('ThrottlingException'), times: 2 };
    const summary = await runInvocation(deps({ settings: { ...settings, maxConcurrency: 1 } }));
    expect(summary.stoppedBy).toBe('transient_error');
    expect(offsets.state.lastEntryId).toBe('0-0');
    expect(offsets.state.attempts['1-0']).toEqual({ attempts: 2, lastError: 'Error: ThrottlingException' });
    expect(games.status('b')).toBe('start_failed');
    expect(games.status('a')).toBe('starting');
  });

  it('retries in the same invocation after a backoff', async () => {
    games.put({ gameId: 'a', status: 'starting' });
    addFailure('1-0', 'a');
    games.faults.updateStatus = { error: new Error('socket hang up'), times: 1 };
    const sleeps: number[] = [];
    const summary = await runInvocation(deps({ sleep: async (ms) => void sleeps.push(ms) }));
    expect(summary).toMatchObject({ applied: 1, stoppedBy: 'drained' });
    expect(sleeps).toEqual([0]);
    expect(telemetry.transientErrors).toBe(1);
  });

  it('dead-letters an entry after MAX_ATTEMPTS tries across invocations', async () => {
    games.put({ gameId: 'a', status: 'starting' });
    addFailure('1-0', 'a');
    addFailure('2-0', 'b');
    games.faults.updateStatus = { error: new Error('InternalServerError'), times: 100 };
    const stops: string[] = [];
    for (let i = 0; i < 3; i += 1) stops.push((await runInvocation(deps())).stoppedBy);
    expect(stops).toEqual(['transient_error', 'transient_error', 'drained']);
    const [dead] = publisher.on('dead');
    expect(dead).toMatchObject({
      game_id: 'a',
      dead_letter_source_id: '1-0',
      dead_letter_reason: 'retries_exhausted: Error: InternalServerError',
      dead_letter_attempts: '5',
    });
    expect(offsets.state).toEqual({ lastEntryId: '2-0', attempts: {} });
  });

  it('never sleeps a backoff past the time left: a retry that would not fit is left to the next invocation', async () => {
    games.put({ gameId: 'a', status: 'starting' });
    addFailure('1-0', 'a');
    games.faults.updateStatus = { error: new Error('socket hang up'), times: 1 };
    remaining = 5_000;
    const sleeps: number[] = [];
    const summary = await runInvocation({
      ...deps({ sleep: async (ms) => void sleeps.push(ms) }),
      settings: { ...settings, retryBackoffMs: 60_000, attemptsPerInvocation: 3 },
    });
    expect(summary).toMatchObject({ stoppedBy: 'transient_error', lastEntryId: '0-0' });
    expect(sleeps).toEqual([]);
    expect(offsets.state.attempts['1-0']).toMatchObject({ attempts: 1 });
  });

  it('never dead-letters an entry that still owes an orphan its stop job', async () => {
    games.put({ gameId: 'o', status: 'starting' });
    games.faults.bindRuntime = { error: refusedForGood('o'), times: 1 };
    addSuccess('1-0', 'o');
    publisher.failNext = 1_000;
    for (let i = 0; i < settings.maxAttempts + 2; i += 1) {
      expect((await runInvocation(deps())).stoppedBy).toBe('transient_error');
    }
    expect(offsets.state.attempts['1-0']).toMatchObject({ pendingStopJob: true });
    expect(publisher.on('dead')).toEqual([]);
    publisher.failNext = 0;
    expect(await runInvocation(deps())).toMatchObject({ applied: 1, lastEntryId: '1-0' });
    expect(publisher.on('stop')).toEqual([expect.objectContaining({ game_id: 'o', source_entry_id: '1-0' })]);
  });

  it('does not move the offset past entries whose messages could not be published', async () => {
    stream.add('1-0', { outcome: 'bogus' });
    publisher.failNext = 2; // the batch request, then the entry's own
    const first = await runInvocation(deps());
    expect(first.stoppedBy).toBe('transient_error');
    // The probe write went through: not an outage, so the lone message counts a try.
    expect(publisher.probes).toBe(1);
    expect(offsets.state).toMatchObject({
      lastEntryId: '0-0',
      attempts: { '1-0': { attempts: 1, lastError: 'Error: publish failed' } },
    });
    const second = await runInvocation(deps());
    expect(second).toMatchObject({ invalid: 1, lastEntryId: '1-0' });
  });

  it('never gives up on messages while Upstash refuses every write', async () => {
    stream.add('1-0', { outcome: 'bogus' });
    publisher.failNext = 1_000;
    for (let i = 0; i < settings.maxAttempts + 2; i += 1) {
      expect((await runInvocation(deps())).stoppedBy).toBe('transient_error');
    }
    expect(telemetry.publishAbandonedCount).toBe(0);
    publisher.failNext = 0;
    expect(await runInvocation(deps())).toMatchObject({ invalid: 1, lastEntryId: '1-0' });
    expect(publisher.on('dead')).toHaveLength(1);
  });

  it('gives nothing up during an outage, not even the dead letter of an entry already past MAX_ATTEMPTS', async () => {
    games.put({ gameId: 'a', status: 'starting' });
    addFailure('1-0', 'a');
    offsets.state = { lastEntryId: '0-0', attempts: { '1-0': { attempts: 7, lastError: 'Error: x', givingUp: true } } };
    publisher.failNext = 1_000;
    expect(await runInvocation(deps())).toMatchObject({ stoppedBy: 'transient_error', lastEntryId: '0-0' });
    expect(telemetry.publishAbandonedCount).toBe(0);
    expect(offsets.state.attempts['1-0']).toMatchObject({ attempts: 7, givingUp: true });
    publisher.failNext = 0;
    expect(await runInvocation(deps())).toMatchObject({ deadLettered: 1, lastEntryId: '1-0' });
  });

  it('publishes entry by entry when the batch request fails, so one bad message holds back only its entry', async () => {
    stream.add('1-0', { outcome: 'bogus' });
    stream.add('2-0', { outcome: 'poison' });
    stream.add('3-0', { outcome: 'bogus' });
    const publish = publisher.publish.bind(publisher);
    publisher.publish = async (messages) => {
      if (messages.some((m) => m.fields.some(([, value]) => value === 'poison')))
        throw new Error('ERR request too large');
      return publish(messages);
    };
    const summaries = [];
    for (let i = 0; i < settings.maxAttempts; i += 1) summaries.push(await runInvocation(deps()));
    expect(summaries.map((s) => s.stoppedBy)).toEqual([
      ...Array(settings.maxAttempts - 1).fill('transient_error'),
      'drained',
    ]);
    expect(summaries[0]?.lastEntryId).toBe('1-0');
    // After MAX_ATTEMPTS the poison's dead letter goes to the error log and the entry is let go.
    expect(offsets.state).toEqual({ lastEntryId: '3-0', attempts: {} });
    expect(telemetry.publishAbandonedCount).toBe(1);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        stream_entry_id: '2-0',
        attempts: settings.maxAttempts,
        messages: expect.any(Array),
      }),
    );
  });

  it('fails the invocation on a missing table without counting attempts', async () => {
    games.put({ gameId: 'a', status: 'starting' });
    addFailure('1-0', 'a');
    games.faults.updateStatus = { error: new MissingTableError('games'), times: 1 };
    await expect(runInvocation(deps())).rejects.toThrow('DynamoDB table "games" does not exist');
    expect(offsets.state).toEqual({ lastEntryId: '0-0', attempts: {} });
    expect(offsets.lease).toBeUndefined();
  });
});

describe('invocation: giving up never leaves a container running', () => {
  it('gives up a success whose running write keeps failing through the orphan path: stop job, start_failed, dead letter', async () => {
    games.put({ gameId: 'g', status: 'starting' });
    addSuccess('1-0', 'g');
    games.failingTransitionsTo.set('running', new Error('InternalServerError'));
    const stops: string[] = [];
    for (let i = 0; i < 3; i += 1) stops.push((await runInvocation(deps())).stoppedBy);
    expect(stops).toEqual(['transient_error', 'transient_error', 'drained']);
    expect(games.status('g')).toBe('start_failed');
    expect(publisher.on('stop')).toEqual([expect.objectContaining({ game_id: 'g', source_entry_id: '1-0' })]);
    expect(publisher.on('dead')).toEqual([
      expect.objectContaining({
        dead_letter_source_id: '1-0',
        dead_letter_reason: 'retries_exhausted: Error: InternalServerError',
      }),
    ]);
    expect(offsets.state).toEqual({ lastEntryId: '1-0', attempts: {} });
  });

  it('gives up an entry that owes a stop job by publishing it first, even after Lobby cancelled its game', async () => {
    games.put({ gameId: 'g', status: 'starting' });
    addSuccess('1-0', 'g');
    games.failingTransitionsTo.set('running', new Error('InternalServerError'));
    // Tries 1-4 fail at the running write; the 5th gives up, and its stop job cannot go out.
    for (let i = 0; i < 2; i += 1) await runInvocation(deps());
    publisher.failNext = 1_000;
    expect((await runInvocation(deps())).stoppedBy).toBe('transient_error');
    expect(offsets.state.attempts['1-0']).toMatchObject({ givingUp: true, pendingStopJob: true });
    expect(games.status('g')).toBe('starting');

    games.put({ ...(games.games.get('g') as StoredGame), status: 'cancelled' });
    publisher.failNext = 0;
    expect(await runInvocation(deps())).toMatchObject({ deadLettered: 1, lastEntryId: '1-0' });
    expect(publisher.on('stop')).toEqual([expect.objectContaining({ game_id: 'g', source_entry_id: '1-0' })]);
    expect(publisher.on('dead')).toHaveLength(1);
    expect(games.status('g')).toBe('cancelled');
  });

  it('retries a give-up that cannot finish without a limit, and never dead-letters the entry alone', async () => {
    games.put({ gameId: 'g', status: 'starting' });
    addSuccess('1-0', 'g');
    games.failingTransitionsTo.set('running', new Error('InternalServerError'));
    games.failingTransitionsTo.set('start_failed', new Error('InternalServerError'));
    for (let i = 0; i < settings.maxAttempts + 3; i += 1) {
      expect((await runInvocation(deps())).stoppedBy).toBe('transient_error');
    }
    expect(offsets.state.attempts['1-0']).toMatchObject({ givingUp: true });
    expect(publisher.on('dead')).toEqual([]);
    expect(games.status('g')).toBe('starting');
    games.failingTransitionsTo.clear();
    expect(await runInvocation(deps())).toMatchObject({ deadLettered: 1, lastEntryId: '1-0' });
    expect(games.status('g')).toBe('start_failed');
    expect(publisher.on('dead')).toHaveLength(1);
  });
});

describe('invocation: entries finished above the offset', () => {
  it('does not apply a finished entry again when the entry before it is retried', async () => {
    games.put({ gameId: 'a', status: 'starting' });
    games.put({ gameId: 'b', status: 'starting' });
    addSuccess('1-0', 'a');
    addFailure('2-0', 'b');
    stream.add('3-0', { game_id: 'b', outcome: 'bogus' });
    games.faults.bindRuntime = { error: new Error('ThrottlingException'), times: settings.attemptsPerInvocation };
    expect(await runInvocation(deps())).toMatchObject({ applied: 1, invalid: 1, stoppedBy: 'transient_error' });
    expect(offsets.state).toMatchObject({ lastEntryId: '0-0', finished: [{ first: '2-0', last: '3-0' }] });
    // Lobby retries the start of b meanwhile: the old failure must not fail the new start.
    games.put({ gameId: 'b', status: 'starting' });

    expect(await runInvocation(deps())).toMatchObject({ applied: 1, invalid: 0, lastEntryId: '3-0' });
    expect(games.status('b')).toBe('starting');
    expect(publisher.on('dead')).toHaveLength(1);
    expect(offsets.state).toEqual({ lastEntryId: '3-0', attempts: {} });
  });

  it('runs a batch in stream order when the record of finished entries is full, so it cannot grow', async () => {
    const far = Array.from({ length: MAX_FINISHED_RANGES }, (_, i) => ({
      first: `${100 + 2 * i}-0`,
      last: `${100 + 2 * i}-0`,
    }));
    offsets.state = { lastEntryId: '0-0', attempts: {}, finished: far };
    games.put({ gameId: 'a', status: 'starting' });
    games.put({ gameId: 'b', status: 'starting' });
    addFailure('1-0', 'a');
    addFailure('2-0', 'b');
    games.faults.updateStatus = { error: new Error('ThrottlingException'), times: settings.attemptsPerInvocation };
    expect(await runInvocation(deps())).toMatchObject({ applied: 0, stoppedBy: 'transient_error' });
    // b waited behind a, as in the Go worker: the record did not grow.
    expect(games.status('b')).toBe('starting');
    expect(offsets.state.finished).toHaveLength(MAX_FINISHED_RANGES);
  });
});

describe('invocation: a small offset item', () => {
  it('cuts the kept error texts to a shared budget when a whole batch fails at once', async () => {
    for (let i = 1; i <= 500; i += 1) {
      games.put({ gameId: `g${i}`, status: 'starting' });
      addFailure(`${i}-0`, `g${i}`);
    }
    games.faults.updateStatus = { error: new Error(`ThrottlingException ${'x'.repeat(1_000)}`), times: 100_000 };
    await runInvocation(deps({ settings: { ...settings, batchSize: 500 } }));
    const rows = Object.values(offsets.state.attempts);
    expect(rows).toHaveLength(500);
    const errorBytes = rows.reduce((sum, row) => sum + Buffer.byteLength(row.lastError, 'utf8'), 0);
    expect(errorBytes).toBeLessThanOrEqual(64 * 1024);
    expect(rows[0]?.lastError).toMatch(/^Error: ThrottlingException x+…\[truncated\]$/);
  });
});

describe('invocation: messages given up', () => {
  it('leaves an intent given up after MAX_ATTEMPTS in the game outbox, counted and logged', async () => {
    games.put({ gameId: 'g', status: 'starting' });
    gameMaster.failing.add('g');
    addSuccess('1-0', 'g');
    const publish = publisher.publish.bind(publisher);
    publisher.publish = async (messages) => {
      if (messages.some((m) => m.stream === 'intents')) throw new Error('WRONGTYPE Operation against a key');
      return publish(messages);
    };
    const summaries = [];
    for (let i = 0; i < settings.maxAttempts; i += 1) summaries.push(await runInvocation(deps()));
    expect(summaries.at(-1)).toMatchObject({ applied: 1, lastEntryId: '1-0', stoppedBy: 'drained' });
    expect(telemetry.publishAbandonedCount).toBe(1);
    expect(games.games.get('g')?.pendingIntent).toMatchObject({ sourceEntryId: '1-0' });
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: 'ERROR', stream_entry_id: '1-0', messages: expect.any(Array) }),
    );
  });
});
