import { Redis } from '@upstash/redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer } from '../../local/redis-server.js';
import { startUpstashServer } from '../../local/upstash-server.js';
import { testStack, uniqueName } from '../support/stack.js';

const stack = testStack();
const client = new Redis({ url: stack.upstashUrl, token: stack.upstashToken, automaticDeserialization: false });

/** Keys this file created, deleted after every test so the shared redis stays clean. */
const created: string[] = [];
const key = (name: string): string => {
  const unique = uniqueName(`upstash-test:${name}`);
  created.push(unique);
  return unique;
};

afterEach(async () => {
  if (created.length > 0) {
    await client.del(...created.splice(0));
  }
});

/** A raw REST call, for what the official client cannot send or hides. */
async function rest(
  path: string,
  body: string,
  headers: Record<string, string> = { Authorization: `Bearer ${stack.upstashToken}` },
  method = 'POST',
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${stack.upstashUrl}${path}`, { method, body: method === 'GET' ? null : body, headers });
  return { status: response.status, json: (await response.json()) as unknown };
}

describe('Upstash-compatible REST server, driven by @upstash/redis', () => {
  it('sets and gets values, returning them as the exact strings', async () => {
    for (const value of ['123', 'true', '{}', '0123', 'null', '', 'ünïcødé ✓']) {
      const k = key('exact');
      expect(await client.set(k, value)).toBe('OK');
      expect(await client.get(k)).toBe(value);
    }
    expect(await client.get(key('missing'))).toBeNull();
  });

  it('returns XADD ids and the raw XRANGE reply shape', async () => {
    const stream = key('stream');
    const first = await client.xadd(stream, '*', { game_id: 'g-1', outcome: 'success' });
    const second = await client.xadd(stream, '*', { game_id: '0123' });
    expect(first).toMatch(/^\d+-\d+$/);
    const entries = await client.exec(['XRANGE', stream, '-', '+']);
    expect(entries).toEqual([
      [first, ['game_id', 'g-1', 'outcome', 'success']],
      [second, ['game_id', '0123']],
    ]);
  });

  it('returns HGETALL as redis does, a flat array', async () => {
    const hash = key('hash');
    await client.hset(hash, { a: '1' });
    expect(await client.exec(['HGETALL', hash])).toEqual(['a', '1']);
  });

  it('runs every command of a pipeline even when one fails', async () => {
    const k = key('pipeline');
    const pipeline = client.pipeline();
    pipeline.set(k, 'not a number');
    pipeline.incr(k);
    pipeline.get(k);
    expect(await pipeline.exec({ keepErrors: true })).toEqual([
      { result: 'OK', error: undefined },
      { result: undefined, error: 'ERR value is not an integer or out of range' },
      { result: 'not a number', error: undefined },
    ]);
  });

  it('runs multi-exec as one transaction, with runtime errors per command', async () => {
    const k = key('multi');
    const transaction = client.multi();
    transaction.set(k, '1');
    transaction.incr(k);
    transaction.lpush(k, 'x');
    expect(await transaction.exec({ keepErrors: true })).toEqual([
      { result: 'OK', error: undefined },
      { result: 2, error: undefined },
      { result: undefined, error: expect.stringMatching(/^WRONGTYPE/) as unknown },
    ]);
  });

  it('rejects a wrong token with WRONGPASS', async () => {
    const intruder = new Redis({
      url: stack.upstashUrl,
      token: 'wrong',
      automaticDeserialization: false,
      retry: false,
    });
    await expect(intruder.get('anything')).rejects.toThrow(/WRONGPASS/);
    expect(await rest('/', '["PING"]', {})).toEqual({
      status: 401,
      json: { error: 'WRONGPASS invalid or missing auth token' },
    });
  });
});

describe('Upstash-compatible REST server, raw HTTP', () => {
  it('answers 405 to other methods and 404 to unknown paths', async () => {
    expect((await rest('/', '', undefined, 'GET')).status).toBe(405);
    expect((await rest('/', '["PING"]', undefined, 'PUT')).status).toBe(405);
    expect((await rest('/nowhere', '["PING"]')).status).toBe(404);
  });

  it('answers 400 to malformed JSON, non-array bodies and bad commands', async () => {
    const cases: [string, string, RegExp][] = [
      ['/', '{"unterminated', /JSON/],
      ['/', '{"command":"GET"}', /JSON array/],
      ['/', '[]', /empty command/],
      ['/', '["SET", "k", {"nested": 1}]', /element 2 is a object|only strings/],
      ['/', '["SET", "k", null]', /element 2 is null/],
      ['/pipeline', '["GET", "k"]', /array of commands/],
      ['/pipeline', '[]', /at least one command/],
      ['/multi-exec', '[["GET"], [1, [2]]]', /command 1 of the multi-exec/],
    ];
    for (const [path, body, error] of cases) {
      const answer = await rest(path, body);
      expect(answer.status, `${path} ${body}`).toBe(400);
      expect((answer.json as { error: string }).error, `${path} ${body}`).toMatch(error);
    }
  });

  it('turns numbers and booleans into strings', async () => {
    const k = key('scalars');
    expect(await rest('/', JSON.stringify(['RPUSH', k, 1, 2.5, true]))).toEqual({ status: 200, json: { result: 3 } });
    expect(await rest('/', JSON.stringify(['LRANGE', k, 0, -1]))).toEqual({
      status: 200,
      json: { result: ['1', '2.5', 'true'] },
    });
  });

  it('answers a redis error with 400 and the redis text', async () => {
    expect(await rest('/', '["NOSUCHCOMMAND"]')).toEqual({
      status: 400,
      json: { error: expect.stringMatching(/^ERR unknown command/) as unknown },
    });
  });

  it('refuses blocking and connection-state commands at once instead of hanging', async () => {
    const started = Date.now();
    for (const command of [
      ['XREAD', 'BLOCK', '0', 'STREAMS', key('blocked'), '$'],
      ['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '1', 'BLOCK', '100', 'STREAMS', key('blocked'), '>'],
      ['BLPOP', key('list'), '0'],
      ['WATCH', 'k'],
      ['SUBSCRIBE', 'channel'],
      ['MULTI'],
      ['SELECT', '1'],
    ]) {
      const answer = await rest('/', JSON.stringify(command));
      expect(answer.status, command.join(' ')).toBe(400);
      expect((answer.json as { error: string }).error).toMatch(/not supported over REST/);
    }
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('runs XREAD without BLOCK, even on a stream named "block"', async () => {
    const stream = key('block');
    const answer = await rest('/', JSON.stringify(['XREAD', 'COUNT', 1, 'STREAMS', stream, '0-0']));
    expect(answer).toEqual({ status: 200, json: { result: null } });
  });

  it('refuses a blocking command inside a pipeline but runs the others', async () => {
    const k = key('mixed');
    const answer = await rest(
      '/pipeline',
      JSON.stringify([
        ['SET', k, 'v'],
        ['BRPOP', k, 0],
        ['GET', k],
      ]),
    );
    expect(answer).toEqual({
      status: 200,
      json: [{ result: 'OK' }, { error: 'ERR command BRPOP is not supported over REST' }, { result: 'v' }],
    });
  });

  it('answers an aborted transaction with one 400 error and runs none of it', async () => {
    const k = key('aborted');
    const answer = await rest(
      '/multi-exec',
      JSON.stringify([
        ['SET', k, 'v'],
        ['SET', k],
      ]),
    );
    expect(answer.status).toBe(400);
    expect((answer.json as { error: string }).error).toMatch(/^EXECABORT/);
    expect(await client.exists(k)).toBe(0);
  });

  it('base64-encodes every string with Upstash-Encoding: base64, and only then', async () => {
    const stream = key('encoded');
    const id = await client.xadd(stream, '1-1', { field: 'välue' });
    const b64 = (text: string): string => Buffer.from(text).toString('base64');
    const auth = { Authorization: `Bearer ${stack.upstashToken}` };
    expect(
      await rest('/', JSON.stringify(['XRANGE', stream, '-', '+']), { ...auth, 'Upstash-Encoding': 'base64' }),
    ).toEqual({
      status: 200,
      json: { result: [[b64(id), [b64('field'), b64('välue')]]] },
    });
    expect(await rest('/', JSON.stringify(['XRANGE', stream, '-', '+']), auth)).toEqual({
      status: 200,
      json: { result: [['1-1', ['field', 'välue']]] },
    });
    expect(await rest('/', JSON.stringify(['XLEN', stream]), { ...auth, 'Upstash-Encoding': 'base64' })).toEqual({
      status: 200,
      json: { result: 1 },
    });
  });

  it('accepts the token as ?_token= and ignores telemetry and sync-token headers', async () => {
    expect(await rest(`/?_token=${encodeURIComponent(stack.upstashToken)}`, '["ECHO", "hi"]', {})).toEqual({
      status: 200,
      json: { result: 'hi' },
    });
    const headers = {
      Authorization: `Bearer ${stack.upstashToken}`,
      'Upstash-Telemetry-Sdk': 'upstash-redis@v1',
      'Upstash-Telemetry-Runtime': 'node',
      'upstash-sync-token': '',
    };
    expect(await rest('/', '["ECHO", "hi"]', headers)).toEqual({ status: 200, json: { result: 'hi' } });
  });

  it('answers 413 to a body over the limit', async () => {
    const answer = await rest('/', JSON.stringify(['SET', key('huge'), 'x'.repeat(11 * 1024 * 1024)]));
    expect(answer.status).toBe(413);
  });
});

describe('Upstash-compatible REST server when redis goes away', () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let server: Awaited<ReturnType<typeof startUpstashServer>>;

  beforeAll(async () => {
    redis = await startRedisServer();
    server = await startUpstashServer({ redisPort: redis.port, redisPassword: redis.password, token: 'secret' });
  });
  afterAll(async () => {
    await server.close();
    await redis.stop();
  });

  it('answers 500 naming the problem, quickly, and counts requests', async () => {
    const call = async (): Promise<Response> =>
      fetch(server.url, { method: 'POST', body: '["PING"]', headers: { Authorization: 'Bearer secret' } });
    expect((await call()).status).toBe(200);
    await redis.stop();
    const started = Date.now();
    const response = await call();
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: string }).error).toMatch(/redis at 127\.0\.0\.1:\d+ is unavailable/);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(server.requestCount()).toBe(2);
  });

  it('refuses to start without a reachable redis', async () => {
    await expect(
      startUpstashServer({ redisPort: redis.port, redisPassword: redis.password, token: 'secret' }),
    ).rejects.toThrow(/could not connect to redis at 127\.0\.0\.1/);
  });
});
