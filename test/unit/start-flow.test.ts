import { beforeEach, describe, expect, it } from 'vitest';
import { StartFlow, StopJobNotPublishedError } from '../../functions/runtime-job-results/start-flow/start-flow.js';
import { WriteRejectedError } from '../../functions/runtime-job-results/errors.js';
import type { RawEntry } from '../../functions/runtime-job-results/domain/job-result.js';
import { FakeGameMaster, FakeGameStore, FakePublisher, RecordingLog, RecordingTelemetry } from '../support/fakes.js';
import type { StoredGame } from '../support/fakes.js';

const streams = { stopJobs: 'stop', notificationIntents: 'intents', deadLetters: 'dead' };
const NOW = 1_700_000_000_000;

const entry = (id: string, fields: Record<string, string>): RawEntry => ({ id, fields: Object.entries(fields) });
const success = (id: string, gameId: string): RawEntry =>
  entry(id, {
    game_id: gameId,
    outcome: 'success',
    container_id: `c-${gameId}`,
    engine_endpoint: `http://engine-${gameId}:8080`,
  });
/** DynamoDB refusing a write for good, as the game store reports it. */
const refusedForGood = (): WriteRejectedError =>
  new WriteRejectedError(
    'g1',
    'runtime binding',
    Object.assign(new Error('Item size has exceeded the maximum allowed size'), { name: 'ValidationException' }),
  );
const failure = (id: string, gameId: string): RawEntry =>
  entry(id, { game_id: gameId, outcome: 'failure', error_code: 'image_pull', error_message: 'no such image' });

let games: FakeGameStore;
let gameMaster: FakeGameMaster;
let publisher: FakePublisher;
let log: RecordingLog;
let telemetry: RecordingTelemetry;
let flow: StartFlow;

beforeEach(() => {
  games = new FakeGameStore();
  gameMaster = new FakeGameMaster();
  publisher = new FakePublisher();
  log = new RecordingLog();
  telemetry = new RecordingTelemetry();
  flow = new StartFlow({ games, gameMaster, publisher, streams, log, telemetry, nowMs: () => NOW });
});

describe('start flow: failure path', () => {
  it('moves starting to start_failed and logs the Go worker message with the error code', async () => {
    games.put({ gameId: 'g1', status: 'starting' });
    const result = await flow.process(failure('1-0', 'g1'));
    expect(result.result).toBe('applied');
    expect(games.status('g1')).toBe('start_failed');
    expect(telemetry.transitions).toEqual(['starting->start_failed']);
    expect(telemetry.outcomes).toEqual(['start_failed']);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        message: 'game start failed',
        stream_entry_id: '1-0',
        game_id: 'g1',
        from_status: 'starting',
        to_status: 'start_failed',
        trigger: 'runtime_event',
        error_code: 'image_pull',
      }),
    );
  });

  it.each(['running', 'paused', 'cancelled', 'start_failed'])('ignores a failure for a game in %s', async (status) => {
    games.put({ gameId: 'g1', status });
    const result = await flow.process(failure('1-0', 'g1'));
    expect(result).toEqual({ result: 'ignored', messages: [], markersToClear: [] });
    expect(games.status('g1')).toBe(status);
    expect(log.lines).toContainEqual(
      expect.objectContaining({ message: 'ignored runtime failure for game not in starting', current_status: status }),
    );
    expect(telemetry.outcomes).toEqual([]);
  });

  it('dead-letters a failure for a game that does not exist', async () => {
    const result = await flow.process(failure('1-0', 'ghost'));
    expect(result.result).toBe('dead_lettered');
    expect(Object.fromEntries(result.messages[0]?.fields ?? [])).toMatchObject({
      game_id: 'ghost',
      dead_letter_reason: 'game_not_found',
      dead_letter_source_id: '1-0',
    });
  });

  it('throws other errors so the entry is retried', async () => {
    games.put({ gameId: 'g1', status: 'starting' });
    games.faults.updateStatus = { error: new Error('ThrottlingException'), times: 1 };
    await expect(flow.process(failure('1-0', 'g1'))).rejects.toThrow('ThrottlingException');
    expect(games.status('g1')).toBe('starting');
  });

  it('truncates error texts to 1 KiB in the log', async () => {
    games.put({ gameId: 'g1', status: 'starting' });
    await flow.process(entry('1-0', { game_id: 'g1', outcome: 'failure', error_message: 'x'.repeat(5000) }));
    const line = log.lines.find((l) => l.message === 'game start failed');
    expect(Buffer.byteLength(String(line?.error_message))).toBeLessThanOrEqual(1024);
  });
});

describe('start flow: success path', () => {
  it('binds the runtime, registers with Game Master and moves starting to running', async () => {
    games.put({ gameId: 'g1', status: 'starting' });
    const result = await flow.process(success('5-1', 'g1'));
    expect(result.result).toBe('applied');
    expect(games.writes).toEqual(['g1:binding', 'g1:starting->running']);
    expect(games.games.get('g1')?.runtimeBinding).toEqual({
      containerId: 'c-g1',
      engineEndpoint: 'http://engine-g1:8080',
      runtimeJobId: '5-1',
      boundAt: new Date(NOW).toISOString(),
    });
    expect(gameMaster.calls).toEqual([
      {
        gameId: 'g1',
        containerId: 'c-g1',
        engineEndpoint: 'http://engine-g1:8080',
        targetEngineVersion: '1.4.2',
        turnSchedule: '0 */6 * * *',
        idempotencyKey: '5-1',
      },
    ]);
    expect(telemetry.outcomes).toEqual(['running']);
    expect(log.messages()).toContain('game running after runtime registration');
  });

  it('does nothing for a game no longer starting: no write, no call, no publish', async () => {
    games.put({ gameId: 'g1', status: 'running' });
    const result = await flow.process(success('5-1', 'g1'));
    expect(result.result).toBe('ignored');
    expect(games.writes).toEqual([]);
    expect(gameMaster.calls).toEqual([]);
    expect(publisher.published).toEqual([]);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        message: 'ignored runtime success for game not in starting',
        current_status: 'running',
      }),
    );
  });

  it('dead-letters a success for a game that does not exist', async () => {
    const result = await flow.process(success('5-1', 'ghost'));
    expect(result.result).toBe('dead_lettered');
    expect(gameMaster.calls).toEqual([]);
  });

  it('pauses the game with the intent in its outbox when Game Master is unavailable', async () => {
    games.put({ gameId: 'g1', status: 'starting', gameName: 'Andromeda' });
    gameMaster.failing.add('g1');
    const result = await flow.process(success('5-1', 'g1'));
    expect(result.result).toBe('applied');
    expect(games.status('g1')).toBe('paused');
    const key = 'lobby.runtime_paused_after_start:5-1';
    expect(games.games.get('g1')?.pendingIntent?.idempotencyKey).toBe(key);
    expect(result.markersToClear).toEqual([{ gameId: 'g1', marker: 'pendingIntent', sourceEntryId: '5-1' }]);
    expect(Object.fromEntries(result.messages[0]?.fields ?? [])).toEqual({
      notification_type: 'lobby.runtime_paused_after_start',
      producer: 'lobby',
      audience: 'admin',
      idempotency_key: key,
      occurred_at_ms: String(NOW),
      payload_json: '{"game_id":"g1","game_name":"Andromeda"}',
    });
    expect(telemetry.outcomes).toEqual(['paused']);
    expect(telemetry.transitions).toEqual(['starting->paused']);
  });

  it('re-publishes the intent this entry left in the outbox, under the same key', async () => {
    games.put({ gameId: 'g1', status: 'starting' });
    gameMaster.failing.add('g1');
    const first = await flow.process(success('5-1', 'g1'));
    const replay = await flow.process(success('5-1', 'g1'));
    expect(replay.result).toBe('applied');
    expect(replay.messages).toEqual(first.messages);
    expect(gameMaster.calls).toHaveLength(1);
  });

  it('does not re-publish an intent left by another entry', async () => {
    games.put({ gameId: 'g1', status: 'starting' });
    gameMaster.failing.add('g1');
    await flow.process(success('5-1', 'g1'));
    const other = await flow.process(success('6-0', 'g1'));
    expect(other.result).toBe('ignored');
    expect(other.messages).toEqual([]);
  });

  it('ignores a game that moved on while Game Master was called', async () => {
    games.put({ gameId: 'g1', status: 'starting' });
    gameMaster.registerRuntime = async () => {
      games.put({ gameId: 'g1', status: 'cancelled' });
    };
    const result = await flow.process(success('5-1', 'g1'));
    expect(result.result).toBe('ignored');
    expect(log.messages()).toContain('ignored running transition for game not in starting');
  });

  it('ignores a game Lobby cancelled before the binding write: no stop job, no call, nothing written', async () => {
    games.put({ gameId: 'g1', status: 'starting' });
    games.beforeBinding = (gameId) => games.put({ gameId, status: 'cancelled' });
    const result = await flow.process(success('5-1', 'g1'));
    expect(result.result).toBe('ignored');
    expect(publisher.published).toEqual([]);
    expect(gameMaster.calls).toEqual([]);
    expect(games.writes).toEqual([]);
    expect(games.status('g1')).toBe('cancelled');
    expect(log.messages()).toContain('ignored runtime success for game not in starting');
  });

  it('lets a game Lobby cancelled after the binding write keep this binding, as any bound game', async () => {
    games.put({ gameId: 'g1', status: 'starting' });
    gameMaster.registerRuntime = async () => {
      games.put({ ...(games.games.get('g1') as StoredGame), status: 'cancelled' });
    };
    const result = await flow.process(success('5-1', 'g1'));
    expect(result.result).toBe('ignored');
    expect(publisher.published).toEqual([]);
    expect(games.games.get('g1')?.runtimeBinding?.runtimeJobId).toBe('5-1');
    expect(games.status('g1')).toBe('cancelled');
  });

  it('writes no start claim: the binding write is the read', async () => {
    games.put({ gameId: 'g1', status: 'starting' });
    await flow.process(success('5-1', 'g1'));
    expect(games.writes).toEqual(['g1:binding', 'g1:starting->running']);
    expect(games.games.get('g1')).not.toHaveProperty('startFlowClaim');
  });

  it('does not change the status on the orphan path when the stop job cannot be published', async () => {
    games.put({ gameId: 'g1', status: 'starting' });
    games.faults.bindRuntime = { error: refusedForGood(), times: 1 };
    publisher.failNext = 1;
    await expect(flow.process(success('5-1', 'g1'))).rejects.toThrow('publish failed');
    expect(games.status('g1')).toBe('starting');
    expect(games.writes).toEqual([]);
  });

  it('goes straight back to the stop job when an earlier try could not publish it', async () => {
    games.put({ gameId: 'g1', status: 'starting' });
    games.faults.bindRuntime = { error: refusedForGood(), times: 1 };
    publisher.failNext = 1;
    await expect(flow.process(success('5-1', 'g1'))).rejects.toThrow(StopJobNotPublishedError);
    games.put({ gameId: 'g1', status: 'cancelled' });
    // A fresh binding write would now find the game cancelled and ignore the entry.
    const retry = await flow.process(success('5-1', 'g1'), { pendingStopJob: true });
    expect(retry.result).toBe('applied');
    expect(publisher.on('stop')).toEqual([expect.objectContaining({ game_id: 'g1', source_entry_id: '5-1' })]);
    expect(games.status('g1')).toBe('cancelled');
  });

  it("finishes an earlier release's interrupted orphan path: its start claim is there, its binding is not", async () => {
    games.put({ gameId: 'g1', status: 'cancelled', startFlowClaim: { sourceEntryId: '5-1', claimedAt: 'then' } });
    const result = await flow.process(success('5-1', 'g1'));
    expect(result.result).toBe('applied');
    expect(publisher.on('stop')).toEqual([expect.objectContaining({ game_id: 'g1', source_entry_id: '5-1' })]);
    expect(result.markersToClear).toEqual([{ gameId: 'g1', marker: 'startFlowClaim', sourceEntryId: '5-1' }]);
  });

  it.each([
    ['another entry claimed it', { startFlowClaim: { sourceEntryId: '4-0', claimedAt: 'then' } }],
    [
      'this entry bound it',
      {
        startFlowClaim: { sourceEntryId: '5-1', claimedAt: 'then' },
        runtimeBinding: { containerId: 'c', engineEndpoint: 'http://e', runtimeJobId: '5-1', boundAt: 'then' },
      },
    ],
  ])('ignores a game that moved on when %s', async (_case, extra) => {
    games.put({ gameId: 'g1', status: 'cancelled', ...extra });
    const result = await flow.process(success('5-1', 'g1'));
    expect(result.result).toBe('ignored');
    expect(publisher.published).toEqual([]);
  });

  it('takes the orphan path at once when the table refuses the binding write for good', async () => {
    games.put({ gameId: 'g1', status: 'starting' });
    games.faults.bindRuntime = { error: refusedForGood(), times: 1 };
    const result = await flow.process(success('5-1', 'g1'));
    expect(result.result).toBe('applied');
    expect(publisher.on('stop')).toEqual([expect.objectContaining({ game_id: 'g1', source_entry_id: '5-1' })]);
    expect(games.status('g1')).toBe('start_failed');
    expect(gameMaster.calls).toEqual([]);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        message: 'persist runtime binding failed; orphan container path',
        err: expect.stringContaining('ValidationException'),
      }),
    );
  });

  it.each([
    ['a replay of a result already handled', 'start_failed', 'ignored'],
    ['a game Lobby cancelled', 'cancelled', 'ignored'],
  ])('reads the game when the binding is refused for good: %s is not orphaned again', async (_case, status, result) => {
    games.put({ gameId: 'g1', status });
    games.faults.bindRuntime = { error: refusedForGood(), times: 1 };
    const outcome = await flow.process(success('5-1', 'g1'));
    expect(outcome.result).toBe(result);
    expect(publisher.published).toEqual([]);
    expect(games.status('g1')).toBe(status);
  });

  it('dead-letters as game_not_found a refused binding whose game is gone', async () => {
    games.faults.bindRuntime = { error: refusedForGood(), times: 1 };
    const outcome = await flow.process(success('5-1', 'g-gone'));
    expect(outcome.result).toBe('dead_lettered');
    expect(publisher.on('stop')).toEqual([]);
    expect(outcome.messages).toEqual([
      expect.objectContaining({ fields: expect.arrayContaining([['dead_letter_reason', 'game_not_found']]) }),
    ]);
  });

  it('retries a throttled binding write instead of orphaning the container', async () => {
    games.put({ gameId: 'g1', status: 'starting' });
    games.faults.bindRuntime = { error: new Error('ProvisionedThroughputExceededException'), times: 1 };
    await expect(flow.process(success('5-1', 'g1'))).rejects.toThrow('ProvisionedThroughputExceededException');
    expect(publisher.published).toEqual([]);
    expect(games.status('g1')).toBe('starting');
  });
});

describe('start flow: invalid entries', () => {
  it.each([
    [{ outcome: 'failure' }, 'missing_game_id', 'decode runtime job result'],
    [{ game_id: 'bad id!', outcome: 'failure' }, 'invalid_game_id', 'decode runtime job result'],
    [{ game_id: 'g1', outcome: 'maybe' }, 'unsupported_outcome', 'decode runtime job result'],
    [
      { game_id: 'g1', outcome: 'success', engine_endpoint: 'http://e' },
      'missing_container_id',
      'invalid runtime job success event',
    ],
    [
      { game_id: 'g1', outcome: 'success', container_id: 'c' },
      'missing_engine_endpoint',
      'invalid runtime job success event',
    ],
  ])('dead-letters %o as %s without touching the game', async (fields, rule, message) => {
    games.put({ gameId: 'g1', status: 'starting' });
    const result = await flow.process(entry('9-0', fields));
    expect(result.result).toBe('invalid');
    expect(games.writes).toEqual([]);
    const dead = Object.fromEntries(result.messages[0]?.fields ?? []);
    expect(dead).toMatchObject({
      ...fields,
      dead_letter_reason: rule,
      dead_letter_source_id: '9-0',
      dead_letter_attempts: '1',
    });
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'WARN', message, stream_entry_id: '9-0' }));
  });
});

describe('start flow: giving up an entry that ran out of tries', () => {
  const exhausted = { attempts: 5, lastError: 'ThrottlingException: slow down' };

  it('orphans the container of a success whose game is still starting: stop job, start_failed, dead letter', async () => {
    games.put({ gameId: 'g1', status: 'starting' });
    const result = await flow.giveUp(success('5-1', 'g1'), exhausted);
    expect(result.result).toBe('dead_lettered');
    expect(publisher.on('stop')).toEqual([expect.objectContaining({ game_id: 'g1', source_entry_id: '5-1' })]);
    expect(games.status('g1')).toBe('start_failed');
    expect(result.messages.map((m) => Object.fromEntries(m.fields))).toEqual([
      expect.objectContaining({
        dead_letter_source_id: '5-1',
        dead_letter_reason: 'retries_exhausted: ThrottlingException: slow down',
        dead_letter_attempts: '5',
      }),
    ]);
    expect(result.markersToClear).toEqual([]);
    expect(games.games.get('g1')).not.toHaveProperty('runtimeBinding');
  });

  it('publishes a stop job an earlier try still owes first, whatever the game says now', async () => {
    games.put({ gameId: 'g1', status: 'cancelled' });
    const result = await flow.giveUp(success('5-1', 'g1'), { ...exhausted, pendingStopJob: true });
    expect(result.result).toBe('dead_lettered');
    expect(publisher.on('stop')).toEqual([expect.objectContaining({ game_id: 'g1', source_entry_id: '5-1' })]);
    expect(games.status('g1')).toBe('cancelled');
  });

  it('finishes the paused intent this entry left in the outbox of a game that moved on', async () => {
    games.put({ gameId: 'g1', status: 'starting' });
    gameMaster.failing.add('g1');
    const paused = await flow.process(success('5-1', 'g1'));
    const result = await flow.giveUp(success('5-1', 'g1'), exhausted);
    expect(result.messages).toEqual([...paused.messages, expect.anything()]);
    expect(publisher.on('stop')).toEqual([]);
  });

  it('only dead-letters a success whose game no longer exists', async () => {
    const result = await flow.giveUp(success('5-1', 'ghost'), exhausted);
    expect(result.result).toBe('dead_lettered');
    expect(result.messages).toHaveLength(1);
    expect(publisher.on('stop')).toEqual([]);
  });

  it('leaves a game that moved on alone, and only dead-letters the entry', async () => {
    games.put({ gameId: 'g1', status: 'running' });
    const result = await flow.giveUp(success('5-1', 'g1'), exhausted);
    expect(result.result).toBe('dead_lettered');
    expect(publisher.on('stop')).toEqual([]);
    expect(games.status('g1')).toBe('running');
    expect(result.messages).toHaveLength(1);
  });

  it('only dead-letters a failure result: it has no container', async () => {
    games.put({ gameId: 'g1', status: 'starting' });
    const result = await flow.giveUp(failure('5-1', 'g1'), exhausted);
    expect(result.result).toBe('dead_lettered');
    expect(games.status('g1')).toBe('starting');
    expect(publisher.on('stop')).toEqual([]);
  });

  it('throws when the orphan path cannot finish, so the give-up is tried again', async () => {
    games.put({ gameId: 'g1', status: 'starting' });
    games.failingTransitionsTo.set('start_failed', new Error('ThrottlingException'));
    await expect(flow.giveUp(success('5-1', 'g1'), exhausted)).rejects.toThrow('ThrottlingException');
  });
});
