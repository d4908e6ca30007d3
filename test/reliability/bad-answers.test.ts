/**
 * Bad configuration and bad answers from Upstash: each gives one clear error or warning
 * (and the metric that goes with it), leaves the offset where it was, and loses nothing —
 * the next good invocation finishes the work. Wrong token, missing tables, a missing
 * variable and an offset past the stream's end are in test/integration/bad-setup.test.ts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startUpstashProxy, streamKeyOf } from '../../local/upstash-proxy.js';
import type { UpstashCall, UpstashProxy } from '../../local/upstash-proxy.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { testStack } from '../support/stack.js';
import { captureLogs, problems } from './support/capture-logs.js';

let h: Harness;
let upstash: UpstashProxy;

beforeAll(async () => {
  upstash = await startUpstashProxy(testStack().upstashUrl);
  h = await createHarness({ UPSTASH_REDIS_REST_URL: upstash.url, POWERTOOLS_LOG_LEVEL: 'WARN', RETRY_BACKOFF_MS: '0' });
});
afterAll(async () => {
  await h.cleanup();
  await upstash.close();
});
beforeEach(() => {
  upstash.setHook(undefined);
});

let n = 0;
/** A `starting` game and a failure result for it: one entry that must not get lost. */
const pendingEntry = async (): Promise<{ gameId: string; entryId: string }> => {
  n += 1;
  const gameId = `bad-${n}`;
  await h.putGame({ gameId, status: 'starting' });
  return { gameId, entryId: await h.addResult({ game_id: gameId, outcome: 'failure' }) };
};

/** Warnings an invalid entry gets for itself: expected, not a sign of the fault. */
const ENTRY_WARNINGS = new Set(['decode runtime job result', 'invalid runtime job success event']);

const invoke = async (env: Record<string, string> = {}) => {
  const snapshots: Record<string, number>[] = [];
  const run = await captureLogs(() =>
    h.invoke({ env, handler: { onMetrics: (snapshot) => snapshots.push(snapshot) } }),
  );
  return {
    ...run,
    warnings: problems(run.logs).filter((line) => !ENTRY_WARNINGS.has(String(line.message))),
    metrics: snapshots[0],
  };
};

/** After the bad invocation: the offset and the game are as they were, and a good run finishes. */
const nothingLost = async (offsetBefore: unknown, pending: { gameId: string; entryId: string }): Promise<void> => {
  const offset = await h.offsetItem();
  expect(offset?.lastEntryId).toBe(offsetBefore);
  expect(offset?.leaseOwner).toBeUndefined();
  expect(await h.getGame(pending.gameId)).toMatchObject({ status: 'starting' });
  upstash.setHook(undefined);
  expect((await invoke()).result).toMatchObject({ stoppedBy: 'drained', lastEntryId: pending.entryId });
  expect(await h.getGame(pending.gameId)).toMatchObject({ status: 'start_failed' });
};

/** The consumer's read of the results stream: a script (EVAL) that runs XRANGE inside Redis. */
const isRead = (call: UpstashCall): boolean =>
  call.commands.some((command) => command[0] === 'EVAL' && streamKeyOf(command) === h.streams.results);

/** Any write: the messages (XADD) and the probe write (SET) that tells an outage from a bad message. */
const isWrite = (call: UpstashCall): boolean => call.names.includes('XADD') || call.names.includes('SET');

describe('a malformed variable', () => {
  it.each([
    ['BATCH_SIZE', 'ten', 'must be a whole number'],
    ['MAX_CONCURRENCY', '0', 'must be between 1 and 256'],
    ['UPSTASH_TIMEOUT_MS', '50', 'must be between 100 and 60000'],
    ['GM_BASE_URL', 'ftp://gm.internal', 'must be an http:// or https:// URL'],
    ['UPSTASH_REDIS_REST_TOKEN_SECRET_ARN', 'my-secret', 'must be a Secrets Manager ARN'],
    ['GAMES_TABLE', 'games table', 'is not a valid DynamoDB table name'],
    ['CONSUMER_MODE', 'turbo', 'must be one of batched, seed, got "turbo"'],
    ['POWERTOOLS_LOG_LEVEL', 'LOUD', 'must be one of'],
  ])('%s=%s fails the cold start with one error naming it, and moves nothing', async (variable, value, problem) => {
    const pending = await pendingEntry();
    const before = (await h.offsetItem())?.lastEntryId;
    const run = await invoke({ [variable]: value });
    expect(String(run.error)).toContain(`${variable} ${problem}`);
    expect(run.warnings).toEqual([
      expect.objectContaining({ level: 'ERROR', message: 'cold start failed', err: expect.stringContaining(variable) }),
    ]);
    // No invocation ran, so no custom metric: Lambda's own Errors metric (and alarm) counts it.
    expect(run.metrics).toBeUndefined();
    await nothingLost(before, pending);
  });
});

describe('bad answers from Upstash', () => {
  it('the results key holding another type (WRONGTYPE) fails the invocation loudly', async () => {
    const pending = await pendingEntry();
    const before = (await h.offsetItem())?.lastEntryId;
    const saved = await h.read(h.streams.results);
    await h.redis.exec(['RENAME', h.streams.results, `${h.streams.results}:saved`]);
    await h.redis.exec(['SET', h.streams.results, 'not a stream']);
    try {
      const run = await invoke();
      expect(String(run.error)).toMatch(/reading the results stream failed: .*WRONGTYPE/);
      expect(run.warnings).toEqual([
        expect.objectContaining({ level: 'ERROR', message: 'invocation failed; offset left at last committed entry' }),
      ]);
      expect(run.metrics).toEqual({});
    } finally {
      await h.redis.exec(['DEL', h.streams.results]);
      await h.redis.exec(['RENAME', `${h.streams.results}:saved`, h.streams.results]);
    }
    expect(await h.read(h.streams.results)).toEqual(saved);
    await nothingLost(before, pending);
  });

  it.each([
    [
      'a 500 with an error envelope',
      { kind: 'respond', status: 500, body: '{"error":"ERR internal"}' },
      /ERR internal/,
    ],
    [
      'a 200 whose body is not JSON',
      { kind: 'respond', status: 200, body: '<html>502 Bad Gateway</html>' },
      /Unable to parse response body/,
    ],
    [
      'a 200 whose result is not a list of entries',
      { kind: 'respond', status: 200, body: `{"result":"${Buffer.from('OK').toString('base64')}"}` },
      /malformed stream reply/,
    ],
    ['no answer at all (connection cut, three times)', { kind: 'drop' }, /fetch failed|other side closed|socket/i],
  ] as const)('%s to the read fails the invocation with that error', async (_label, action, message) => {
    const pending = await pendingEntry();
    const before = (await h.offsetItem())?.lastEntryId;
    upstash.setHook((call) => (isRead(call) ? action : { kind: 'forward' }));
    const run = await invoke();
    expect(String(run.error)).toMatch(message);
    expect(run.warnings).toHaveLength(1);
    await nothingLost(before, pending);
  });

  it('an answer slower than UPSTASH_TIMEOUT_MS fails the invocation instead of hanging it', async () => {
    const pending = await pendingEntry();
    const before = (await h.offsetItem())?.lastEntryId;
    // The answer would come after 5 s and succeed: only the 300 ms timeout can fail the read.
    upstash.setHook((call) => (isRead(call) ? { kind: 'forward', delayMs: 5_000 } : { kind: 'forward' }));
    const started = Date.now();
    const run = await invoke({ UPSTASH_TIMEOUT_MS: '300' });
    expect(Date.now() - started).toBeLessThan(4_500);
    expect(String(run.error)).toMatch(/reading the results stream failed: .*(TimeoutError|aborted)/i);
    await nothingLost(before, pending);
  });

  it('a 500 to every publish holds back only the entry with a message', async () => {
    const pending = await pendingEntry();
    const invalid = await h.addResult({ game_id: 'bad id', outcome: 'failure' });
    upstash.setHook((call) =>
      isWrite(call) ? { kind: 'respond', status: 500, body: '{"error":"ERR busy"}' } : { kind: 'forward' },
    );
    const run = await invoke();
    // The batch request fails, then the entry's own: the entry before it, with no message, is done.
    expect(run.result).toMatchObject({ stoppedBy: 'transient_error', lastEntryId: pending.entryId });
    expect(run.warnings).toEqual([
      expect.objectContaining({ level: 'WARN', message: 'publishing the batch failed; publishing entry by entry' }),
      expect.objectContaining({
        level: 'WARN',
        message: 'Upstash refuses writes; waiting the outage out without counting attempts',
      }),
    ]);
    expect(run.metrics).toMatchObject({ 'lobby.start_flow.transient_errors|': 1 });
    // Nothing could be published, not even the probe write: an outage, so no attempt is counted.
    expect((await h.offsetItem())?.attempts).toEqual({
      [invalid]: { attempts: 0, lastError: expect.stringContaining('ERR busy') },
    });
    expect(await h.getGame(pending.gameId)).toMatchObject({ status: 'start_failed' });
    upstash.setHook(undefined);
    expect((await invoke()).result).toMatchObject({ stoppedBy: 'drained', lastEntryId: invalid, invalid: 1 });
    expect(
      (await h.read(h.streams.deadLetters)).filter((m) => m.fields.dead_letter_source_id === invalid),
    ).toHaveLength(1);
  });

  it('a publish whose answer is lost is sent again: the dead letter arrives at least once', async () => {
    const invalid = await h.addResult({ game_id: 'bad id', outcome: 'failure' });
    let sends = 0;
    upstash.setHook((call) => {
      if (!call.commands.some((command) => command.includes(invalid))) return { kind: 'forward' };
      sends += 1;
      return sends === 1 ? { kind: 'dropAfter' } : { kind: 'forward' };
    });
    expect((await invoke()).result).toMatchObject({ stoppedBy: 'drained', lastEntryId: invalid, invalid: 1 });
    // The first send was applied but not answered; only a second send lets the entry be done.
    expect(sends).toBeGreaterThanOrEqual(2);
    const copies = (await h.read(h.streams.deadLetters)).filter((m) => m.fields.dead_letter_source_id === invalid);
    expect(copies.length).toBeGreaterThanOrEqual(1);
    expect(new Set(copies.map((m) => m.fields.dead_letter_reason))).toEqual(new Set(['invalid_game_id']));
  });

  it('a dead-letter key holding another type holds back that entry with a warning and a metric per try, then recovers', async () => {
    const before = (await h.offsetItem())?.lastEntryId;
    const first = await h.addResult({ outcome: 'failure' });
    const behind = await pendingEntry();
    await h.redis.exec(['SET', h.streams.deadLetters, 'not a stream']);
    try {
      for (let i = 0; i < 2; i += 1) {
        const run = await invoke();
        expect(run.result).toMatchObject({ stoppedBy: 'transient_error', lastEntryId: before });
        expect(run.warnings).toEqual([
          expect.objectContaining({
            message: 'publishing the batch failed; publishing entry by entry',
            err: expect.stringContaining('WRONGTYPE'),
          }),
        ]);
        expect(run.metrics).toMatchObject({ 'lobby.start_flow.transient_errors|': 1 });
      }
      // Only the entry with the dead letter waits; the result behind it was applied.
      expect(await h.getGame(behind.gameId)).toMatchObject({ status: 'start_failed' });
      // Upstash takes the probe write, so this is the message's fault: each try counts.
      expect((await h.offsetItem())?.attempts).toMatchObject({
        [first]: { attempts: 2, lastError: expect.stringContaining('WRONGTYPE') },
      });
    } finally {
      await h.redis.exec(['DEL', h.streams.deadLetters]);
    }
    expect((await invoke()).result).toMatchObject({ stoppedBy: 'drained', lastEntryId: behind.entryId });
    expect((await h.read(h.streams.deadLetters)).map((m) => m.fields.dead_letter_source_id)).toEqual([first]);
  });

  // Upstash refusing every write (a full database, Redis out of memory) is an outage, not a
  // bad message: the probe write fails too, so the consumer waits it out, counting no
  // attempt, however many invocations it takes, and then publishes. (One message that alone
  // cannot be published is given up after MAX_ATTEMPTS: test/reliability/lost-messages.test.ts.)
  it('an Upstash refusing every write stalls the consumer without giving anything up, then publishes', async () => {
    n += 1;
    const gameId = `bad-${n}`;
    await h.putGame({ gameId, status: 'starting' });
    h.gameMaster.setBehaviour(gameId, { kind: 'fail', status: 503 });
    const entryId = await h.addResult({
      game_id: gameId,
      outcome: 'success',
      container_id: 'c',
      engine_endpoint: 'http://e/',
    });
    upstash.setHook((call) =>
      isWrite(call)
        ? { kind: 'respond', status: 500, body: '{"error":"ERR max data size exceeded"}' }
        : { kind: 'forward' },
    );
    for (let i = 0; i < 3; i += 1) {
      const run = await invoke({ MAX_ATTEMPTS: '2' });
      expect(run.result).toMatchObject({ stoppedBy: 'transient_error' });
      expect(run.metrics).not.toHaveProperty(['lobby.start_flow.publish_abandoned|']);
    }
    expect(await h.getGame(gameId)).toMatchObject({ status: 'paused', pendingIntent: { sourceEntryId: entryId } });
    upstash.setHook(undefined);

    expect((await invoke({ MAX_ATTEMPTS: '2' })).result).toMatchObject({ stoppedBy: 'drained', lastEntryId: entryId });
    expect(
      (await h.read(h.streams.notificationIntents)).filter((m) => m.fields.idempotency_key?.endsWith(entryId)),
    ).toHaveLength(1);
    expect(await h.getGame(gameId)).not.toHaveProperty('pendingIntent');
  });
});
