/**
 * The local stack is locked down: redis-server wants a password and protected mode is on,
 * everything we start listens on loopback, and DynamoDB Local lets no web page read it
 * (its default CORS answer is `*`, which any site open in a browser here could use).
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DYNAMODB_LOCAL_CORS_ORIGIN } from '../../local/dynamodb-local.js';
import { pingRedis } from '../../local/redis-server.js';
import { testStack } from '../support/stack.js';

/** Sends raw RESP inline commands and resolves to the reply lines once `lines` have come. */
const rawRedis = async (host: string, port: number, commands: readonly string[], lines: number): Promise<string[]> =>
  new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let reply = '';
    socket.setTimeout(5_000, () => {
      socket.destroy();
      reject(new Error(`no answer to ${commands.length} commands`));
    });
    socket.once('error', reject);
    socket.once('connect', () => socket.write(commands.map((command) => `${command}\r\n`).join('')));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      const got = reply.split('\r\n').slice(0, -1);
      if (got.length >= lines) {
        socket.destroy();
        resolve(got);
      }
    });
  });

describe('the local redis-server', () => {
  it('refuses a client without the password, and answers one with it', async () => {
    const { redisHost, redisPort, redisPassword } = testStack();
    expect(await pingRedis(redisHost, redisPort)).toBe(false);
    expect(await rawRedis(redisHost, redisPort, ['GET anything'], 1)).toEqual([
      expect.stringMatching(/^-NOAUTH Authentication required/),
    ]);
    expect(await pingRedis(redisHost, redisPort, redisPassword)).toBe(true);
  });

  it('listens on loopback only, with protected mode on', async () => {
    const { redisHost, redisPort, redisPassword } = testStack();
    expect(redisHost).toBe('127.0.0.1');
    const reply = await rawRedis(
      redisHost,
      redisPort,
      [`AUTH ${redisPassword}`, 'CONFIG GET bind', 'CONFIG GET protected-mode'],
      1 + 5 + 5,
    );
    expect(reply).toEqual(['+OK', '*2', '$4', 'bind', '$9', '127.0.0.1', '*2', '$14', 'protected-mode', '$3', 'yes']);
  });
});

describe('the other local services', () => {
  it('listen on loopback', () => {
    const stack = testStack();
    for (const url of [stack.dynamodbEndpoint, stack.upstashUrl]) expect(new URL(url).hostname).toBe('127.0.0.1');
  });

  it('DynamoDB Local allows no web origin to read its answers', async () => {
    const { dynamodbEndpoint } = testStack();
    const preflight = (origin: string) =>
      fetch(dynamodbEndpoint, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type,x-amz-target',
        },
      });
    const page = await preflight('https://some-site.example');
    expect(page.headers.get('access-control-allow-origin')).toBeNull();
    // The one origin it is told to allow cannot exist (a reserved .invalid name).
    expect(DYNAMODB_LOCAL_CORS_ORIGIN).toMatch(/\.invalid$/);
    expect((await preflight(DYNAMODB_LOCAL_CORS_ORIGIN)).headers.get('access-control-allow-origin')).toBe(
      DYNAMODB_LOCAL_CORS_ORIGIN,
    );
  });
});
