/**
 * Which errors stop the whole invocation is decided on the ports' error types, which the
 * adapters translate from their dependency's answer, never on an error's text: an entry's
 * data can reach an error's message (an Upstash error echoes the command), and a game id
 * such as `g-NOPERM` must not make every invocation that touches it fail as if a token were
 * wrong. Refused access (DynamoDB's access errors, a 401/403 that is not DynamoDB's) stops the
 * invocation at once, counts no attempt and leaves the offset where it was.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isFatal } from '../../functions/runtime-job-results/consumer/fatal-errors.js';
import { STREAM_START } from '../../functions/runtime-job-results/domain/entry-id.js';
import {
  AccessRefusedError,
  DeadlineReachedError,
  GameMasterAuthError,
  GameMasterUnavailableError,
  MissingTableError,
} from '../../functions/runtime-job-results/errors.js';
import { StopJobNotPublishedError } from '../../functions/runtime-job-results/start-flow/start-flow.js';
import { forward, gameIdOf, refusedForGood } from '../../local/dynamodb-proxy.js';
import { startUpstashProxy } from '../../local/upstash-proxy.js';
import type { UpstashProxy } from '../../local/upstash-proxy.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { testStack } from '../support/stack.js';
import { appendsTo, isBindingWrite, successFields } from './support/hooks.js';

describe("isFatal reads the ports' error types, not text", () => {
  it.each([
    ['a plain error whose text says WRONGPASS', new Error('WRONGPASS invalid or missing auth token'), false],
    ['a plain error whose text says NOAUTH', new Error('NOAUTH Authentication required'), false],
    ['a Game Master answer whose body says NOPERM', new GameMasterUnavailableError('HTTP 503 NOPERM', 503), false],
    [
      'an AccessDeniedException the adapter did not translate',
      Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }),
      false,
    ],
    [
      'refused access, as the DynamoDB adapter reports it',
      new AccessRefusedError('DynamoDB', 'AccessDeniedException'),
      true,
    ],
    ['a missing table', new MissingTableError('games'), true],
    ['Game Master refusing the token', new GameMasterAuthError(401), true],
    ["the invocation's deadline", new DeadlineReachedError('Upstash'), true],
    [
      'a stop job not published because the table went missing',
      new StopJobNotPublishedError('g', new MissingTableError('games')),
      true,
    ],
    ['a missing table wrapped in an error of its own', new Error('lease', { cause: new MissingTableError('o') }), true],
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
/** A success result for a fresh game whose binding DynamoDB refuses for good: the orphan path. */
const orphanEntry = async (gameId: string): Promise<string> => {
  await h.putGame({ gameId, status: 'starting' });
  const entryId = await h.addResult(successFields(gameId));
  h.proxy.setHook((call) => (gameIdOf(call) === gameId && isBindingWrite(call, gameId) ? refusedForGood : forward));
  return entryId;
};

describe('entry data and Upstash answers cannot make an invocation fatal', () => {
  it.each([
    [500, 'ERR busy'],
    [401, 'WRONGPASS invalid or missing auth token'],
    [403, 'NOPERM this token may not write'],
  ])(
    'a stop job for game "g-NOPERM-WRONGPASS" refused with a %s is retried with its stop job owed, then sent',
    async (status, text) => {
      n += 1;
      const gameId = `g-NOPERM-WRONGPASS-NOAUTH-${n}`;
      const before = (await h.offsetItem())?.lastEntryId ?? STREAM_START;
      const entryId = await orphanEntry(gameId);
      upstash.setHook((call) =>
        appendsTo(call, h.streams.stopJobs)
          ? { kind: 'respond', status, body: JSON.stringify({ error: text }) }
          : { kind: 'forward' },
      );

      // Returns (no exception): the entry is left to retry, with its owed stop job remembered.
      expect(await h.invoke()).toMatchObject({ stoppedBy: 'transient_error' });
      const offset = await h.offsetItem();
      expect(offset?.lastEntryId).toBe(before);
      expect(offset?.attempts).toMatchObject({ [entryId]: { pendingStopJob: true } });
      expect(await h.getGame(gameId)).toMatchObject({ status: 'starting' });

      upstash.setHook(undefined);
      h.proxy.setHook(undefined);
      expect(await h.invoke()).toMatchObject({ stoppedBy: 'drained', lastEntryId: entryId });
      expect((await h.read(h.streams.stopJobs)).map((m) => m.fields.game_id)).toContain(gameId);
      expect(await h.getGame(gameId)).toMatchObject({ status: 'start_failed' });
    },
  );
});

describe('refused access stops the invocation at once, with no attempt counted', () => {
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
