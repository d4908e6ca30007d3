import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { forward, gameIdOf, refusedForGood } from '../../local/dynamodb-proxy.js';
import type { DynamoDbCall } from '../../local/dynamodb-proxy.js';
import {
  cancelBefore as lobbyCancelsBefore,
  isBindingWrite,
  isStatusWrite,
  setGameStatus,
} from '../../local/lobby-race.js';

let h: Harness;
let n = 0;
/** A game id of its own for each test: the tables are shared by the tests of this file. */
const gameId = (): string => {
  n += 1;
  return `g-${process.pid}-${n}`;
};

const success = (id: string): Record<string, string> => ({
  game_id: id,
  outcome: 'success',
  container_id: `container-${id}`,
  engine_endpoint: `http://engine-${id}.galaxy.internal:8080/`,
});

/** Lobby cancels game `id` just before the consumer's next write to it that `matches`. */
const cancelBefore = (id: string, matches: (call: DynamoDbCall) => boolean): void =>
  h.proxy.setHook(lobbyCancelsBefore(h.documents, h.gamesTable, id, matches));

/** DynamoDB refuses game `id`'s binding for good, as it does an item that would pass 400 KB. */
const refuseBinding = (id: string): void =>
  h.proxy.setHook((call) => (gameIdOf(call) === id && isBindingWrite(call, id) ? refusedForGood : forward));

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.cleanup();
});
beforeEach(() => {
  h.proxy.setHook(undefined);
  h.gameMaster.reset();
});

describe('start flow against DynamoDB Local, redis-server and Game Master', () => {
  it('failure: moves starting to start_failed without calling Game Master', async () => {
    const id = gameId();
    await h.putGame({ gameId: id, status: 'starting', lobbyOwned: 'keep me' });
    await h.addResult({ game_id: id, outcome: 'failure', error_code: 'image_pull', error_message: 'pull failed' });
    const summary = await h.invoke();
    expect(summary).toMatchObject({ applied: 1, stoppedBy: 'drained' });
    const game = await h.getGame(id);
    expect(game).toMatchObject({ status: 'start_failed', lobbyOwned: 'keep me' });
    expect(game?.statusChangedAt).toEqual(game?.updatedAt);
    expect(game?.lastTransition).toMatchObject({ from: 'starting', to: 'start_failed', trigger: 'runtime_event' });
    expect(h.gameMaster.callsFor(id)).toEqual([]);
  });

  it('failure: ignores a game that is no longer starting', async () => {
    const id = gameId();
    await h.putGame({ gameId: id, status: 'running' });
    await h.addResult({ game_id: id, outcome: 'failure' });
    expect(await h.invoke()).toMatchObject({ ignored: 1 });
    expect(await h.getGame(id)).toMatchObject({ status: 'running' });
  });

  it('failure: dead-letters a result for a game that does not exist', async () => {
    const id = gameId();
    const entryId = await h.addResult({ game_id: id, outcome: 'failure' });
    expect(await h.invoke()).toMatchObject({ deadLettered: 1 });
    const dead = (await h.read(h.streams.deadLetters)).filter((m) => m.fields.dead_letter_source_id === entryId);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.fields).toMatchObject({ game_id: id, outcome: 'failure', dead_letter_reason: 'game_not_found' });
  });

  it('success: binds the runtime, registers with Game Master and moves to running', async () => {
    const id = gameId();
    await h.putGame({ gameId: id, status: 'starting', targetEngineVersion: '2.0.1', turnSchedule: 'every 6h' });
    const entryId = await h.addResult(success(id));
    expect(await h.invoke()).toMatchObject({ applied: 1 });
    const game = await h.getGame(id);
    expect(game).toMatchObject({
      status: 'running',
      runtimeBinding: {
        containerId: `container-${id}`,
        engineEndpoint: `http://engine-${id}.galaxy.internal:8080/`,
        runtimeJobId: entryId,
      },
    });
    const [call] = h.gameMaster.callsFor(id);
    expect(call?.method).toBe('PUT');
    expect(call?.path).toBe(`/internal/v1/games/${id}/runtime`);
    expect(call?.headers['idempotency-key']).toBe(entryId);
    expect(call?.headers['content-type']).toBe('application/json');
    expect(call?.headers.authorization).toBeUndefined();
    expect(call?.body).toEqual({
      game_id: id,
      container_id: `container-${id}`,
      engine_endpoint: `http://engine-${id}.galaxy.internal:8080/`,
      target_engine_version: '2.0.1',
      turn_schedule: 'every 6h',
    });
  });

  it('success: sends the Game Master token as a bearer token when one is configured', async () => {
    const id = gameId();
    await h.putGame({ gameId: id, status: 'starting' });
    await h.addResult(success(id));
    await h.invoke({ env: { GM_API_TOKEN: 'gm-secret-token' } });
    expect(h.gameMaster.callsFor(id)[0]?.headers.authorization).toBe('Bearer gm-secret-token');
  });

  it('success: a Game Master that refuses the token fails the invocation instead of pausing the game', async () => {
    const id = gameId();
    await h.putGame({ gameId: id, status: 'starting' });
    h.gameMaster.setBehaviour(id, { kind: 'fail', status: 401 });
    const entryId = await h.addResult(success(id));
    await expect(h.invoke({ env: { GM_API_TOKEN: 'stale-token' } })).rejects.toThrow(
      'Game Master refused the API token (HTTP 401)',
    );
    expect(await h.getGame(id)).toMatchObject({ status: 'starting' });
    expect((await h.offsetItem())?.attempts ?? {}).not.toHaveProperty(entryId);
    h.gameMaster.setBehaviour(id, { kind: 'ok' });
    expect(await h.invoke()).toMatchObject({ applied: 1, lastEntryId: entryId });
    expect(await h.getGame(id)).toMatchObject({ status: 'running' });
  });

  it('success: does nothing for a game no longer starting', async () => {
    const id = gameId();
    await h.putGame({ gameId: id, status: 'cancelled' });
    await h.addResult(success(id));
    expect(await h.invoke()).toMatchObject({ ignored: 1 });
    expect(await h.getGame(id)).not.toHaveProperty('runtimeBinding');
    expect(h.gameMaster.callsFor(id)).toEqual([]);
  });

  it('success: dead-letters a result for a game that does not exist', async () => {
    const id = gameId();
    await h.addResult(success(id));
    expect(await h.invoke()).toMatchObject({ deadLettered: 1 });
    expect(h.gameMaster.callsFor(id)).toEqual([]);
  });

  it('success: keeps values that look like numbers or JSON exactly', async () => {
    const ids = ['123', '0123', 'true'];
    for (const id of ids) await h.putGame({ gameId: id, status: 'starting' });
    await h.addResult({
      game_id: '123',
      outcome: 'success',
      container_id: '{}',
      engine_endpoint: 'http://10.0.0.1:1/',
    });
    await h.addResult({ game_id: '0123', outcome: 'success', container_id: '007', engine_endpoint: 'http://e/' });
    await h.addResult({ game_id: 'true', outcome: 'success', container_id: 'null', engine_endpoint: 'http://e/' });
    expect(await h.invoke()).toMatchObject({ applied: 3 });
    expect(await h.getGame('123')).toMatchObject({ status: 'running', runtimeBinding: { containerId: '{}' } });
    expect(await h.getGame('0123')).toMatchObject({ status: 'running', runtimeBinding: { containerId: '007' } });
    expect(await h.getGame('true')).toMatchObject({ status: 'running', runtimeBinding: { containerId: 'null' } });
    expect(h.gameMaster.callsFor('0123')[0]?.body).toMatchObject({ game_id: '0123', container_id: '007' });
  });

  it('a game Lobby cancelled before the binding write is ignored: nothing bound, no call, no stop job', async () => {
    const id = gameId();
    await h.putGame({ gameId: id, status: 'starting' });
    await h.addResult(success(id));
    cancelBefore(id, (call) => isBindingWrite(call));
    expect(await h.invoke()).toMatchObject({ ignored: 1 });
    expect((await h.read(h.streams.stopJobs)).filter((m) => m.fields.game_id === id)).toEqual([]);
    expect(await h.getGame(id)).toMatchObject({ status: 'cancelled' });
    expect(await h.getGame(id)).not.toHaveProperty('runtimeBinding');
    expect(h.gameMaster.callsFor(id)).toEqual([]);
  });

  it('orphan: DynamoDB refuses the binding for good; stop job, then start_failed', async () => {
    const id = gameId();
    await h.putGame({ gameId: id, status: 'starting' });
    const entryId = await h.addResult(success(id));
    refuseBinding(id);
    expect(await h.invoke()).toMatchObject({ applied: 1 });
    const stops = (await h.read(h.streams.stopJobs)).filter((m) => m.fields.game_id === id);
    expect(stops.map((m) => m.fields)).toEqual([
      {
        game_id: id,
        reason: 'orphan_container',
        source_entry_id: entryId,
        requested_at_ms: expect.stringMatching(/^\d+$/),
      },
    ]);
    expect(await h.getGame(id)).toMatchObject({ status: 'start_failed' });
    expect(await h.getGame(id)).not.toHaveProperty('runtimeBinding');
    expect(h.gameMaster.callsFor(id)).toEqual([]);
  });

  it('orphan: a refused binding of a result delivered twice sends one stop job; the replay reads the game and is ignored', async () => {
    const id = gameId();
    await h.putGame({ gameId: id, status: 'starting' });
    const first = await h.addResult(success(id));
    // Upstream delivered the same result again, under a new entry id.
    await h.addResult(success(id));
    refuseBinding(id);
    expect(await h.invoke()).toMatchObject({ applied: 1, ignored: 1, stoppedBy: 'drained' });
    const stops = (await h.read(h.streams.stopJobs)).filter((m) => m.fields.game_id === id);
    expect(stops.map((m) => m.fields.source_entry_id)).toEqual([first]);
    expect(await h.getGame(id)).toMatchObject({ status: 'start_failed' });
  });

  it('orphan: a stop job that cannot be published leaves the status alone and the entry for a retry', async () => {
    const id = gameId();
    await h.putGame({ gameId: id, status: 'starting' });
    const entryId = await h.addResult(success(id));
    refuseBinding(id);
    // The stop-jobs key holds a string: every XADD to it fails with WRONGTYPE.
    await h.redis.exec(['SET', h.streams.stopJobs, 'not a stream']);
    try {
      const summary = await h.invoke({ env: { MAX_ATTEMPTS: '10', ATTEMPTS_PER_INVOCATION: '1' } });
      expect(summary).toMatchObject({ stoppedBy: 'transient_error' });
      expect((await h.offsetItem())?.attempts).toMatchObject({
        [entryId]: { attempts: 1, lastError: expect.stringContaining('WRONGTYPE'), pendingStopJob: true },
      });
    } finally {
      await h.redis.exec(['DEL', h.streams.stopJobs]);
    }
    expect(await h.getGame(id)).toMatchObject({ status: 'starting' });
    h.proxy.setHook(undefined);
    await setGameStatus(h.documents, h.gamesTable, id, 'cancelled');
    // Lobby cancelled the game meanwhile, yet the retry still owes the container its stop job.
    expect(await h.invoke()).toMatchObject({ applied: 1, stoppedBy: 'drained' });
    const stops = (await h.read(h.streams.stopJobs)).filter((m) => m.fields.source_entry_id === entryId);
    expect(stops).toHaveLength(1);
    expect(await h.getGame(id)).toMatchObject({ status: 'cancelled' });
  });

  it('paused: a game that moves on while Game Master is down is left as it is, with no intent', async () => {
    const id = gameId();
    await h.putGame({ gameId: id, status: 'starting' });
    h.gameMaster.setBehaviour(id, { kind: 'fail', status: 500 });
    const entryId = await h.addResult(success(id));
    cancelBefore(id, (call) => isStatusWrite(call, id, 'paused'));
    expect(await h.invoke()).toMatchObject({ ignored: 1 });
    expect(await h.getGame(id)).toMatchObject({ status: 'cancelled' });
    expect(
      (await h.read(h.streams.notificationIntents)).filter((m) => m.fields.idempotency_key?.endsWith(entryId)),
    ).toEqual([]);
  });

  it('running: a game that moves on after Game Master registered it is left as it is', async () => {
    const id = gameId();
    await h.putGame({ gameId: id, status: 'starting' });
    await h.addResult(success(id));
    cancelBefore(id, (call) => isStatusWrite(call, id, 'running'));
    expect(await h.invoke()).toMatchObject({ ignored: 1 });
    expect(await h.getGame(id)).toMatchObject({
      status: 'cancelled',
      runtimeBinding: { containerId: `container-${id}` },
    });
    expect(h.gameMaster.callsFor(id)).toHaveLength(1);
  });

  it('paused: Game Master unavailable pauses the game and publishes the admin intent once', async () => {
    const id = gameId();
    await h.putGame({ gameId: id, status: 'starting', gameName: 'Andromeda "Prime"' });
    h.gameMaster.setBehaviour(id, { kind: 'fail', status: 503 });
    const entryId = await h.addResult(success(id));
    expect(await h.invoke()).toMatchObject({ applied: 1 });
    const game = await h.getGame(id);
    expect(game).toMatchObject({ status: 'paused' });
    expect(game).not.toHaveProperty('pendingIntent');
    const intents = (await h.read(h.streams.notificationIntents)).filter((m) =>
      m.fields.idempotency_key?.endsWith(entryId),
    );
    expect(intents.map((m) => m.fields)).toEqual([
      {
        notification_type: 'lobby.runtime_paused_after_start',
        producer: 'lobby',
        audience: 'admin',
        idempotency_key: `lobby.runtime_paused_after_start:${entryId}`,
        occurred_at_ms: expect.stringMatching(/^\d+$/),
        payload_json: JSON.stringify({ game_id: id, game_name: 'Andromeda "Prime"' }),
      },
    ]);
  });

  it('paused: a Game Master that hangs is given up after GM_TIMEOUT_MS', async () => {
    const id = gameId();
    await h.putGame({ gameId: id, status: 'starting' });
    h.gameMaster.setBehaviour(id, { kind: 'hang' });
    await h.addResult(success(id));
    const started = Date.now();
    await h.invoke({ env: { GM_TIMEOUT_MS: '300' } });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await h.getGame(id)).toMatchObject({ status: 'paused' });
  });

  it.each([
    [{ outcome: 'failure', note: 'no game id' }, 'missing_game_id'],
    [{ game_id: 'has space', outcome: 'failure' }, 'invalid_game_id'],
    [{ game_id: 'g-x', outcome: 'exploded' }, 'unsupported_outcome'],
    [{ game_id: 'g-x', outcome: 'success', container_id: 'c' }, 'missing_engine_endpoint'],
    [
      { game_id: 'g-x', outcome: 'success', container_id: 'c', engine_endpoint: 'gopher://x' },
      'invalid_engine_endpoint',
    ],
  ])('invalid: %o is dead-lettered as %s with every original field', async (fields, rule) => {
    const entryId = await h.addResult(fields as Record<string, string>);
    expect(await h.invoke()).toMatchObject({ invalid: 1 });
    const [dead] = (await h.read(h.streams.deadLetters)).filter((m) => m.fields.dead_letter_source_id === entryId);
    expect(dead?.fields).toEqual({
      ...fields,
      dead_letter_source_id: entryId,
      dead_letter_reason: rule,
      dead_letter_attempts: '1',
      dead_letter_at_ms: expect.stringMatching(/^\d+$/),
    });
    expect((await h.offsetItem())?.lastEntryId).toBe(entryId);
  });

  it('replay: the same result delivered twice applies once and calls Game Master once', async () => {
    const id = gameId();
    await h.putGame({ gameId: id, status: 'starting' });
    await h.addResult(success(id));
    await h.addResult(success(id));
    expect(await h.invoke()).toMatchObject({ applied: 1, ignored: 1 });
    expect(h.gameMaster.callsFor(id)).toHaveLength(1);
  });
});
