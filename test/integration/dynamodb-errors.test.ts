/**
 * How the games store reads DynamoDB's answers, through the SDK, against DynamoDB Local
 * behind a proxy that answers in its place: a decision only where DynamoDB named one.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildDependencies } from '../../functions/runtime-job-results/dependencies.js';
import type { Dependencies } from '../../functions/runtime-job-results/dependencies.js';
import {
  AccessRefusedError,
  ConflictError,
  DeadlineReachedError,
  MissingTableError,
  NotFoundError,
  WriteRejectedError,
} from '../../functions/runtime-job-results/errors.js';
import type { ProxyAction } from '../../local/dynamodb-proxy.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';

let h: Harness;
let dependencies: Dependencies;

beforeAll(async () => {
  h = await createHarness();
  dependencies = await buildDependencies(h.env);
});
afterEach(() => {
  h.proxy.setHook(undefined);
  dependencies.deadline.end();
});
afterAll(async () => {
  await h.cleanup();
});

const binding = { containerId: 'c', engineEndpoint: 'http://e', runtimeJobId: '1-0', boundAt: 'now' };
const bind = (gameId: string) => dependencies.games.bindRuntime(gameId, binding, 'now');
const dynamoDbError = (status: number, type: string, message = 'injected'): ProxyAction => ({
  kind: 'error',
  status,
  type: `com.amazonaws.dynamodb.v20120810#${type}`,
  message,
});
const raw = (status: number, body: string, contentType?: string): ProxyAction => ({
  kind: 'respond',
  status,
  body,
  ...(contentType === undefined ? {} : { contentType }),
});

describe('the games store decides only on what DynamoDB itself answered', () => {
  it('returns a game that is not starting from the failed condition, and NotFoundError for no game', async () => {
    await h.putGame({ gameId: 'e-moved', status: 'running' });
    expect(await bind('e-moved')).toMatchObject({ bound: false, game: { status: 'running' } });
    await expect(bind('e-nobody')).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      dependencies.games.updateStatus({
        gameId: 'e-moved',
        transition: { from: 'starting', to: 'running', trigger: 'runtime_event' },
        at: 'now',
      }),
    ).rejects.toBeInstanceOf(ConflictError);
  });

  it.each([
    ['a ValidationException', dynamoDbError(400, 'ValidationException', 'Item size has exceeded'), WriteRejectedError],
    ['an AccessDeniedException', dynamoDbError(400, 'AccessDeniedException'), AccessRefusedError],
    ['an UnrecognizedClientException', dynamoDbError(400, 'UnrecognizedClientException'), AccessRefusedError],
    ['a ResourceNotFoundException', dynamoDbError(400, 'ResourceNotFoundException'), MissingTableError],
    ['a 403 HTML page from something in between', raw(403, '<html>Forbidden</html>', 'text/html'), AccessRefusedError],
    ['a 401 with an empty body', raw(401, ''), AccessRefusedError],
  ])('translates %s into %O', async (_label, action, expected) => {
    await h.putGame({ gameId: 'e-1', status: 'starting' });
    h.proxy.setHook(() => action);
    await expect(bind('e-1')).rejects.toBeInstanceOf(expected);
  });

  it.each([
    ['a throttle', dynamoDbError(400, 'ThrottlingException')],
    ['an internal server error', dynamoDbError(500, 'InternalServerError')],
    ['a 500 HTML page', raw(500, '<html>oops</html>', 'text/html')],
    ['a 429 HTML page', raw(429, '<html>slow down</html>', 'text/html')],
    ['a 408', raw(408, 'timeout', 'text/plain')],
    ['a 413', raw(413, 'too large', 'text/plain')],
    ['a 400 with an empty body', raw(400, '')],
    ['a 400 whose JSON is cut', raw(400, '{"__type":"com.amazon.coral.validate#Valid')],
    ['a 400 whose JSON names no type', raw(400, '{"message":"who knows"}')],
    ['a dropped connection', { kind: 'drop' } as const],
  ])('leaves %s undecided: not a port decision, not fatal', async (_label, action) => {
    await h.putGame({ gameId: 'e-2', status: 'starting' });
    h.proxy.setHook(() => action);
    const error = await bind('e-2').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    for (const decision of [ConflictError, NotFoundError, WriteRejectedError, AccessRefusedError, MissingTableError]) {
      expect(error).not.toBeInstanceOf(decision);
    }
    expect(await h.getGame('e-2')).not.toHaveProperty('runtimeBinding');
  });

  it("names DynamoDB when the invocation's deadline cuts a request", async () => {
    await h.putGame({ gameId: 'e-3', status: 'starting' });
    h.proxy.setHook(() => ({ kind: 'forward', delayMs: 2_000 }));
    dependencies.deadline.start(400);
    const error = await bind('e-3').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DeadlineReachedError);
    expect((error as Error).message).toContain('DynamoDB');
  });
});
