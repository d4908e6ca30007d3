/**
 * The entry-fields property again, fewer runs, against the real things: the entry goes
 * through redis-server and the Upstash REST server, the games live in DynamoDB Local, Game
 * Master is an HTTP stub. What the in-memory ports cannot show — a value mangled on the
 * wire, a key such as `constructor` meeting a real item, a dead letter that Redis refuses —
 * shows here.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { anyFields, isFaithfulCopy, KNOWN_GAMES, statusAfter, verdictOf } from './support/entries.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.cleanup();
});

describe('property: any entry fields (real stack)', () => {
  it('never crash the consumer, write only what the contract allows, and dead-letter invalid entries with their rule', async () => {
    await fc.assert(
      fc.asyncProperty(anyFields, fc.boolean(), async (fields, gameMasterDown) => {
        fc.pre(fields.length > 0);
        for (const [gameId, status] of Object.entries(KNOWN_GAMES)) await h.putGame({ gameId, status });
        h.gameMaster.reset();
        const verdict = verdictOf(fields);
        const failing = gameMasterDown && verdict.valid;
        if (failing) h.gameMaster.setBehaviour(verdict.gameId, { kind: 'fail', status: 503 });
        const entryId = String(await h.redis.exec(['XADD', h.streams.results, '*', ...fields.flat()]));

        const summary = await h.invoke();
        expect(summary).toMatchObject({ entriesRead: 1, stoppedBy: 'drained', lastEntryId: entryId });
        const dead = (await h.read(h.streams.deadLetters)).filter((m) => m.fields.dead_letter_source_id === entryId);
        if (!verdict.valid) {
          expect(dead).toHaveLength(1);
          expect(dead[0]?.fields.dead_letter_reason).toBe(verdict.reason);
          for (const [name, value] of new Map(fields)) {
            if (!name.startsWith('dead_letter_')) expect(isFaithfulCopy(value, dead[0]?.fields[name])).toBe(true);
          }
          expect(h.gameMaster.calls()).toEqual([]);
        }
        for (const [gameId, initial] of Object.entries(KNOWN_GAMES)) {
          const named = verdict.valid && verdict.gameId === gameId;
          const game = await h.getGame(gameId);
          expect(game?.status).toBe(named ? statusAfter(verdict, initial, failing) : initial);
          if (!named) expect(game).not.toHaveProperty('runtimeBinding');
        }
        if (verdict.valid && !Object.hasOwn(KNOWN_GAMES, verdict.gameId)) {
          expect(dead.map((m) => m.fields.dead_letter_reason)).toEqual(['game_not_found']);
        }
      }),
      { numRuns: 25 },
    );
  }, 60_000);
});
