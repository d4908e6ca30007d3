/**
 * Answers that do not come from DynamoDB — an HTML page from a proxy or a WAF, an empty or
 * cut body, a 408, 413 or 429 from something in between — are never decisions: no container
 * is stopped and no game changed because of them. Each is answered to one game's binding
 * write a few times; the entry is then applied once DynamoDB itself answers.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { forward, gameIdOf } from '../../local/dynamodb-proxy.js';
import type { ProxyAction } from '../../local/dynamodb-proxy.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { isBindingWrite, successFields } from './support/hooks.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness({ RETRY_BACKOFF_MS: '0' });
});
afterAll(async () => {
  await h.cleanup();
});
beforeEach(() => {
  h.proxy.setHook(undefined);
});

const html = (status: number, text: string): ProxyAction => ({
  kind: 'respond',
  status,
  contentType: 'text/html',
  body: `<html><head><title>${text}</title></head><body><h1>${text}</h1></body></html>`,
});

let n = 0;

describe('answers DynamoDB did not give are never decisions', () => {
  it.each([
    ['a 403 HTML page from a proxy, twice', html(403, '403 Forbidden'), 2],
    ['a 429 HTML page from an edge throttle, four times', html(429, '429 Too Many Requests'), 4],
    ['a 500 HTML page from a load balancer, twice', html(500, '500 Internal Server Error'), 2],
    ['a 502 HTML page, twice', html(502, '502 Bad Gateway'), 2],
    ['a 408 in plain text, twice', { kind: 'respond', status: 408, contentType: 'text/plain', body: 'timeout' }, 2],
    ['a 413 in plain text, twice', { kind: 'respond', status: 413, contentType: 'text/plain', body: 'too large' }, 2],
    ['a 400 with an empty body, twice', { kind: 'respond', status: 400, body: '' }, 2],
    [
      'a 400 whose JSON is cut mid-way, twice',
      { kind: 'respond', status: 400, body: '{"__type":"com.amazon.coral.val' },
      2,
    ],
    ['a 400 whose JSON names no error type, twice', { kind: 'respond', status: 400, body: '{"message":"no"}' }, 2],
    ['a 401 with an empty body, once', { kind: 'respond', status: 401, body: '' }, 1],
  ] satisfies [string, ProxyAction, number][])(
    '%s: nothing stopped, the game not changed, then applied once DynamoDB answers',
    async (_label, answer, times) => {
      n += 1;
      const gameId = `foreign-${n}`;
      await h.putGame({ gameId, status: 'starting' });
      const entryId = await h.addResult(successFields(gameId));
      let answered = 0;
      h.proxy.setHook((call) => {
        if (gameIdOf(call) !== gameId || !isBindingWrite(call, gameId) || answered >= times) return forward;
        answered += 1;
        return answer;
      });

      // A 401 or 403 that is not DynamoDB's fails the invocation (fatal: nothing can be written);
      // the others are retried as transient errors. Either way, invoke until the fault is used up.
      for (let invocation = 0; invocation < 5 && (await h.getGame(gameId))?.status !== 'running'; invocation += 1) {
        await h.invoke().catch(() => undefined);
        const game = await h.getGame(gameId);
        if (game?.status !== 'running') {
          expect(game).toMatchObject({ status: 'starting' });
          expect(game).not.toHaveProperty('runtimeBinding');
        }
        expect((await h.read(h.streams.stopJobs)).filter((m) => m.fields.game_id === gameId)).toEqual([]);
      }
      expect(answered).toBe(times);
      expect(await h.getGame(gameId)).toMatchObject({ status: 'running', runtimeBinding: { runtimeJobId: entryId } });
      expect(h.gameMaster.callsFor(gameId)).toHaveLength(1);
      expect((await h.read(h.streams.stopJobs)).filter((m) => m.fields.game_id === gameId)).toEqual([]);
      expect((await h.read(h.streams.deadLetters)).filter((m) => m.fields.game_id === gameId)).toEqual([]);
    },
  );
});
