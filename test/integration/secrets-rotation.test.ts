/**
 * Tokens from Secrets Manager (docs/contract.md §6.1), against a stand-in for its API on loopback: the
 * handler reads the ARN's secret at cold start, and after Upstash refuses it, reads it again
 * past Powertools' cache, so a rotated secret is picked up without a redeploy.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';

const ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:galaxy/test/upstash-AbCdEf';

let h: Harness;
let server: Server;
let secretValue = 'not-the-token';
const reads: string[] = [];

beforeAll(async () => {
  h = await createHarness();
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      const { SecretId } = JSON.parse(body || '{}') as { SecretId?: string };
      reads.push(`${target}:${SecretId}`);
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify({ ARN, Name: 'galaxy/test/upstash', SecretString: secretValue, VersionId: 'v1' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  // The SDK reads service endpoints and credentials from the process environment.
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = `http://127.0.0.1:${address.port}`;
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  process.env.AWS_REGION = 'us-east-1';
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await h.cleanup();
});

describe('Upstash token from Secrets Manager', () => {
  it('reads the secret by ARN, and picks up a rotated value right after the old one is refused', async () => {
    await h.putGame({ gameId: 'sec', status: 'starting' });
    const entryId = await h.addResult({ game_id: 'sec', outcome: 'failure' });
    const handlerEnv = { UPSTASH_REDIS_REST_TOKEN: '', UPSTASH_REDIS_REST_TOKEN_SECRET_ARN: ARN };
    const { createHandler } = await import('../../functions/runtime-job-results/create-handler.js');
    const { lambdaContext, scheduledEvent } = await import('../../scripts/support/lambda-context.js');
    const handler = createHandler({ ...h.env, ...handlerEnv });
    const invoke = () => handler(scheduledEvent(), lambdaContext(30_000));

    await expect(invoke()).rejects.toThrow(/WRONGPASS/);
    expect(reads).toEqual([`secretsmanager.GetSecretValue:${ARN}`]);
    expect(await h.getGame('sec')).toMatchObject({ status: 'starting' });

    secretValue = h.env.UPSTASH_REDIS_REST_TOKEN ?? '';
    expect(await invoke()).toMatchObject({ applied: 1, lastEntryId: entryId });
    expect(reads).toHaveLength(2);
    // Warm again: no further read while the token works.
    await invoke();
    expect(reads).toHaveLength(2);
  });
});
