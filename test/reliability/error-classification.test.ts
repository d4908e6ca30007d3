/**
 * Which errors stop the whole invocation is decided on the error's type and HTTP status,
 * never on its text: an Upstash error used to echo the command, so a game id such as
 * `g-NOPERM` in an entry made every invocation that touched it fail as if the token were
 * wrong. Access errors (AWS access denied, Upstash 401/403) still stop the invocation at
 * once, count no attempt and leave the offset where it was.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isFatal } from '../../functions/runtime-job-results/consumer/fatal-errors.js';
import { STREAM_START } from '../../functions/runtime-job-results/domain/entry-id.js';
import {
  GameMasterUnavailableError,
  MissingTableError,
  UpstashHttpError,
} from '../../functions/runtime-job-results/errors.js';
import { forward, gameIdOf } from '../../local/dynamodb-proxy.js';
import { startUpstashProxy } from '../../local/upstash-proxy.js';
import type { UpstashProxy } from '../../local/upstash-proxy.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { testStack } from '../support/stack.js';
import { appendsTo, cancelBeforeBinding, successFields } from './support/hooks.js';

describe('isFatal reads types and statuses, not text', () => {
  it.each([
    ['an Upstash 401 (wrong token)', new UpstashHttpError(401, 'WRONGPASS invalid or missing auth token'), true],
    ['an Upstash 403', new UpstashHttpError(403, 'forbidden'), true],
    ['an Upstash 400 whose text says NOPERM', new UpstashHttpError(400, 'NOPERM no permissions'), false],
    ['an Upstash 500 whose text says WRONGPASS', new UpstashHttpError(500, 'ERR g-WRONGPASS'), false],
    ['a plain error whose text says NOAUTH', new Error('NOAUTH Authentication required'), false],
    ['a Game Master answer whose body says NOPERM', new GameMasterUnavailableError('HTTP 503 NOPERM', 503), false],
    [
      'an AWS AccessDeniedException',
      Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }),
      true,
    ],
    ['an AWS throttle', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }), false],
    ['a missing table', new MissingTableError('games'), true],
    [
      'an error caused by an Upstash 401',
      new Error('stop job not published', { cause: new UpstashHttpError(401, 'x') }),
      true,
    ],
  ])('%s → fatal: %s', (_label, error, fatal) => {
    expect(isFatal(error)).toBe(fatal);
  });
});

let h: Harness;
let upstash: UpstashProxy;

beforeAll(async () => {
  upstash = await startUpstashProxy(testStack().upstashUrl);
  h = await createHarness({ UPSTASH_REDIS_REST_URL: upstash.url, MAX_ATTEMPTS: '3' });
});
afterAll(async () => {
  await h.cleanup();
  await upstash.close();
});
beforeEach(() => {
  upstash.setHook(undefined);
  h.proxy.setHook(undefined);
});

let n = 0;
/** A success result for a fresh game whose binding write will lose to Lobby's cancel: the orphan path. */
const orphanEntry = async (gameId: string): Promise<string> => {
  await h.putGame({ gameId, status: 'starting' });
  const entryId = await h.addResult(successFields(gameId));
  h.proxy.setHook(cancelBeforeBinding(h, gameId));
  return entryId;
};

describe('entry data cannot make an invocation fatal', () => {
  it('a stop job for game "g-NOPERM-WRONGPASS" refused with a 500 is retried, not fatal', async () => {
    n += 1;
    const gameId = `g-NOPERM-WRONGPASS-NOAUTH-${n}`;
    const before = (await h.offsetItem())?.lastEntryId ?? STREAM_START;
    const entryId = await orphanEntry(gameId);
    upstash.setHook((call) =>
      appendsTo(call, h.streams.stopJobs)
        ? { kind: 'respond', status: 500, body: '{"error":"ERR busy"}' }
        : { kind: 'forward' },
    );

    // Returns (no exception): the entry is left to retry, with its owed stop job remembered.
    expect(await h.invoke()).toMatchObject({ stoppedBy: 'transient_error' });
    const offset = await h.offsetItem();
    expect(offset?.lastEntryId).toBe(before);
    expect(offset?.attempts).toMatchObject({ [entryId]: { pendingStopJob: true } });

    upstash.setHook(undefined);
    h.proxy.setHook(undefined);
    expect(await h.invoke()).toMatchObject({ stoppedBy: 'drained', lastEntryId: entryId });
    expect((await h.read(h.streams.stopJobs)).map((m) => m.fields.game_id)).toContain(gameId);
  });
});

describe('access errors stop the invocation at once, with no attempt counted', () => {
  it.each([
    [401, 'WRONGPASS invalid or missing auth token'],
    [403, 'NOPERM this token may not write'],
  ])('an Upstash %s to the stop job fails the invocation and leaves the offset', async (status, text) => {
    n += 1;
    const gameId = `auth-${n}`;
    const before = await h.offsetItem();
    await orphanEntry(gameId);
    upstash.setHook((call) =>
      appendsTo(call, h.streams.stopJobs)
        ? { kind: 'respond', status, body: JSON.stringify({ error: text }) }
        : { kind: 'forward' },
    );

    await expect(h.invoke()).rejects.toThrow(`Upstash answered HTTP ${status}`);
    const offset = await h.offsetItem();
    expect(offset?.lastEntryId ?? STREAM_START).toBe(before?.lastEntryId ?? STREAM_START);
    expect(offset?.attempts ?? {}).toEqual(before?.attempts ?? {});
    expect(offset).not.toHaveProperty('leaseOwner');

    upstash.setHook(undefined);
    h.proxy.setHook(undefined);
    expect(await h.invoke()).toMatchObject({ stoppedBy: 'drained' });
    expect((await h.read(h.streams.stopJobs)).map((m) => m.fields.game_id)).toContain(gameId);
  });

  it('an AWS AccessDeniedException on the games table fails the invocation and leaves the offset', async () => {
    n += 1;
    const gameId = `denied-${n}`;
    const before = await h.offsetItem();
    await h.putGame({ gameId, status: 'starting' });
    const entryId = await h.addResult({ game_id: gameId, outcome: 'failure' });
    h.proxy.setHook((call) =>
      call.tableName === h.gamesTable && gameIdOf(call) === gameId
        ? {
            kind: 'error',
            status: 400,
            type: 'com.amazonaws.dynamodb.v20120810#AccessDeniedException',
            message: 'User is not authorized to perform: dynamodb:UpdateItem',
          }
        : forward,
    );

    await expect(h.invoke()).rejects.toThrow(/AccessDeniedException/);
    const offset = await h.offsetItem();
    expect(offset?.lastEntryId ?? STREAM_START).toBe(before?.lastEntryId ?? STREAM_START);
    expect(offset?.attempts ?? {}).toEqual(before?.attempts ?? {});
    expect(await h.getGame(gameId)).toMatchObject({ status: 'starting' });

    h.proxy.setHook(undefined);
    expect(await h.invoke()).toMatchObject({ stoppedBy: 'drained', lastEntryId: entryId });
    expect(await h.getGame(gameId)).toMatchObject({ status: 'start_failed' });
  });
});
