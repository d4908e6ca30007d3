/**
 * Every network call has a bounded time. A dependency that accepts connections and never
 * answers must not run an invocation into Lambda's timeout, where it would end with no log
 * line saying why: the invocation fails first with an error naming the dependency, keeps
 * what it had committed, and its lease expires as designed.
 */
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { forward } from '../../local/dynamodb-proxy.js';
import { lambdaContext, scheduledEvent } from '../../scripts/support/lambda-context.js';
import { createHandler } from '../../functions/runtime-job-results/create-handler.js';
import { createHarness } from '../support/consumer-harness.js';
import { testStack } from '../support/stack.js';
import type { Harness } from '../support/consumer-harness.js';
import { skipSlow } from '../support/slow.js';
import { leaseExpiry } from '../../local/child-invocation.js';
import { isStatusWrite, successFields } from './support/hooks.js';
import { startSilentFront } from './support/silent-front.js';
import type { SilentFront } from './support/silent-front.js';

/** A TCP server that accepts connections and reads what comes, answering nothing. */
const startMute = async (): Promise<{ url: string; server: Server }> => {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { url: `http://127.0.0.1:${address.port}`, server };
};

describe.skipIf(skipSlow)('a DynamoDB that accepts connections and never answers', () => {
  let h: Harness;
  let front: SilentFront;

  beforeAll(async () => {
    h = await createHarness({ MAX_CONCURRENCY: '1', BATCH_SIZE: '2', TIME_BUDGET_MARGIN_MS: '1000' });
    front = await startSilentFront(new URL(h.proxy.endpoint));
  });
  afterAll(async () => {
    await front.close();
    await h.cleanup();
  });

  it('fails the invocation before its deadline naming DynamoDB, keeps what it committed, and its lease expires', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `hung-${i}`);
    const entries: string[] = [];
    for (const id of ids) {
      await h.putGame({ gameId: id, status: 'starting' });
      entries.push(await h.addResult(successFields(id)));
    }
    // DynamoDB goes silent right after the third game went running: the first batch of two
    // is committed, the second batch's commit never answers.
    let running = 0;
    h.proxy.setHook((call) =>
      isStatusWrite(call, undefined, 'running')
        ? {
            kind: 'forward',
            after: async () => {
              running += 1;
              if (running === 3) front.silence();
            },
          }
        : forward,
    );
    const timeoutMs = 12_000;
    const handler = createHandler({ ...h.env, DYNAMODB_ENDPOINT: front.url });
    const started = Date.now();
    const failure = await handler(scheduledEvent(), lambdaContext(timeoutMs)).then(
      () => undefined,
      (error: unknown) => error,
    );
    const elapsed = Date.now() - started;

    expect(String(failure)).toMatch(/DynamoDB did not answer before the invocation's deadline/);
    expect(elapsed).toBeLessThan(timeoutMs);
    h.proxy.setHook(undefined);
    const offset = await h.offsetItem();
    expect(offset?.lastEntryId).toBe(entries[1]);
    // Not released (DynamoDB was silent): held until the invocation's own deadline.
    expect(offset).toMatchObject({ leaseOwner: expect.any(String), leaseExpiresAt: expect.any(Number) });
    expect(await h.invoke()).toMatchObject({ stoppedBy: 'lease_held' });

    await sleep(leaseExpiry(offset));
    expect(await h.invoke()).toMatchObject({ stoppedBy: 'drained', lastEntryId: entries[5] });
    for (const id of ids) expect(await h.getGame(id)).toMatchObject({ status: 'running' });
  }, 60_000);
});

describe.skipIf(skipSlow)('an Upstash that accepts connections and never answers', () => {
  let h: Harness;
  let front: SilentFront;

  beforeAll(async () => {
    h = await createHarness();
    front = await startSilentFront(new URL(testStack().upstashUrl));
  });
  afterAll(async () => {
    await front.close();
    await h.cleanup();
  });

  it('fails the invocation before its deadline naming Upstash, even with a per-request timeout longer than the invocation', async () => {
    await h.putGame({ gameId: 'upstash-silent', status: 'starting' });
    await h.addResult({ game_id: 'upstash-silent', outcome: 'failure' });
    // The per-request timeout alone would wait 60 s: only the deadline can end this one.
    const handler = createHandler({
      ...h.env,
      UPSTASH_REDIS_REST_URL: front.url,
      UPSTASH_TIMEOUT_MS: '60000',
      TIME_BUDGET_MARGIN_MS: '1000',
    });
    // A first invocation while Upstash answers, so the next one is a warm invocation whose
    // deadline is armed anew (each invocation has its own).
    expect(await handler(scheduledEvent(), lambdaContext(30_000))).toMatchObject({ stoppedBy: 'drained' });
    front.silence();
    await h.putGame({ gameId: 'upstash-silent-2', status: 'starting' });
    await h.addResult({ game_id: 'upstash-silent-2', outcome: 'failure' });

    const timeoutMs = 6_000;
    const started = Date.now();
    const failure = await handler(scheduledEvent(), lambdaContext(timeoutMs)).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(String(failure)).toMatch(/Upstash did not answer before the invocation's deadline/);
    expect(Date.now() - started).toBeLessThan(timeoutMs);
    expect(await h.getGame('upstash-silent-2')).toMatchObject({ status: 'starting' });
  }, 60_000);
});

describe.skipIf(skipSlow)('a Secrets Manager that accepts connections and never answers', () => {
  let mute: { url: string; server: Server };
  let h: Harness;
  const ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:galaxy/test/hung-AbCdEf';

  beforeAll(async () => {
    h = await createHarness();
    mute = await startMute();
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = mute.url;
    process.env.AWS_ACCESS_KEY_ID = 'local';
    process.env.AWS_SECRET_ACCESS_KEY = 'local';
    process.env.AWS_REGION = 'us-east-1';
  });
  afterAll(async () => {
    mute.server.close();
    await h.cleanup();
  });
  afterEach(() => {
    delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  });

  it('fails the cold start with a timeout naming the secret, within the bounded tries', async () => {
    const handler = createHandler({ ...h.env, UPSTASH_REDIS_REST_TOKEN: '', UPSTASH_REDIS_REST_TOKEN_SECRET_ARN: ARN });
    const started = Date.now();
    await expect(handler(scheduledEvent(), lambdaContext(60_000))).rejects.toThrow(
      new RegExp(`UPSTASH_REDIS_REST_TOKEN: could not read secret ${ARN}: .*requestTimeout`),
    );
    // Three tries of 3 s each, far below the function's timeout (the SDK alone would wait minutes).
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);
});
