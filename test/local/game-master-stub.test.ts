import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GameMasterStub } from '../../local/game-master-stub.js';
import { startTestGameMaster } from '../support/stack.js';

const body = (gameId: string): Record<string, string> => ({
  game_id: gameId,
  container_id: `container-${gameId}`,
  engine_endpoint: `http://engine-${gameId}:8080/`,
  target_engine_version: '1.4.2',
  turn_schedule: '0 */6 * * *',
});

/** A runtime registration as the consumer sends it. */
async function register(
  stub: GameMasterStub,
  gameId: string,
  headers: Record<string, string> = { 'Idempotency-Key': `key-${gameId}` },
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(`${stub.baseUrl}/internal/v1/games/${encodeURIComponent(gameId)}/runtime`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body(gameId)),
    signal: signal ?? null,
  });
}

describe('Game Master stub', () => {
  let stub: GameMasterStub;
  beforeEach(async () => {
    stub = await startTestGameMaster();
  });
  afterEach(async () => {
    await stub.close();
  });

  it('answers 200 {} by default and records the call', async () => {
    const response = await register(stub, 'g-1', { 'Idempotency-Key': 'k-1', Authorization: 'Bearer t' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({});
    const [call] = stub.callsFor('g-1');
    expect(call).toMatchObject({
      method: 'PUT',
      path: '/internal/v1/games/g-1/runtime',
      gameId: 'g-1',
      body: body('g-1'),
      status: 200,
    });
    expect(call?.headers['idempotency-key']).toBe('k-1');
    expect(call?.headers.authorization).toBe('Bearer t');
    expect(call?.at).toBeInstanceOf(Date);
    expect(stub.callsFor('other')).toEqual([]);
  });

  it('fails, slows down and hangs per game as told', async () => {
    stub.setBehaviour('failing', { kind: 'fail', status: 503 });
    stub.setBehaviour('failing-default', { kind: 'fail' });
    stub.setBehaviour('slow', { kind: 'slow', delayMs: 150 });
    stub.setBehaviour('hanging', { kind: 'hang' });
    expect((await register(stub, 'failing')).status).toBe(503);
    expect((await register(stub, 'failing-default')).status).toBe(500);
    const started = Date.now();
    expect((await register(stub, 'slow')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await expect(register(stub, 'hanging', undefined, AbortSignal.timeout(200))).rejects.toThrow();
    expect(stub.callsFor('hanging')).toMatchObject([{ status: null }]);
    expect(stub.callsFor('failing')).toMatchObject([{ status: 503 }]);
  });

  it('applies a default behaviour and forgets everything on reset', async () => {
    stub.setDefaultBehaviour({ kind: 'fail', status: 502 });
    stub.setBehaviour('fine', { kind: 'ok' });
    expect((await register(stub, 'any')).status).toBe(502);
    expect((await register(stub, 'fine')).status).toBe(200);
    stub.reset();
    expect(stub.calls()).toEqual([]);
    expect((await register(stub, 'any')).status).toBe(200);
  });

  it('closes promptly while a request hangs', async () => {
    stub.setBehaviour('hanging', { kind: 'hang' });
    const pending = register(stub, 'hanging').catch((error: unknown) => error);
    await expect.poll(() => stub.callsFor('hanging').length).toBe(1);
    const started = Date.now();
    await stub.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await pending).toBeInstanceOf(Error);
  });

  it('rejects requests without an Idempotency-Key, other methods and other paths', async () => {
    expect((await register(stub, 'g', {})).status).toBe(400);
    expect((await fetch(`${stub.baseUrl}/internal/v1/games/g/runtime`)).status).toBe(405);
    expect((await fetch(`${stub.baseUrl}/elsewhere`, { method: 'PUT' })).status).toBe(404);
    expect(stub.calls().map((call) => call.status)).toEqual([400, 405, 404]);
  });
});

describe('Game Master stub options', () => {
  it('checks the bearer token when one is expected', async () => {
    const stub = await startTestGameMaster({ expectedToken: 'secret' });
    try {
      expect((await register(stub, 'g', { 'Idempotency-Key': 'k' })).status).toBe(401);
      expect((await register(stub, 'g', { 'Idempotency-Key': 'k', Authorization: 'Bearer nope' })).status).toBe(401);
      expect((await register(stub, 'g', { 'Idempotency-Key': 'k', Authorization: 'Bearer secret' })).status).toBe(200);
    } finally {
      await stub.close();
    }
  });

  it('fails a reproducible share of calls with failureRate and seed', async () => {
    const statuses = async (seed: number): Promise<number[]> => {
      const stub = await startTestGameMaster({ failureRate: 0.5, seed });
      try {
        const answers: number[] = [];
        for (let i = 0; i < 40; i += 1) {
          answers.push((await register(stub, `g-${i}`)).status);
        }
        return answers;
      } finally {
        await stub.close();
      }
    };
    const first = await statuses(7);
    expect(await statuses(7)).toEqual(first);
    const failures = first.filter((status) => status === 500).length;
    expect(failures).toBeGreaterThan(5);
    expect(failures).toBeLessThan(35);
    expect(first.filter((status) => status !== 500).every((status) => status === 200)).toBe(true);
  });

  it('delays every answer by defaultDelayMs', async () => {
    const stub = await startTestGameMaster({ defaultDelayMs: 100 });
    try {
      const started = Date.now();
      expect((await register(stub, 'g')).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    } finally {
      await stub.close();
    }
  });
});
