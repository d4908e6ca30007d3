/**
 * Bad input never stops the consumer: whatever fields an entry carries, the invocation ends
 * normally, moves the offset past it, writes only the game the entry names (and only as
 * the contract allows), and dead-letters an invalid entry with the rule it broke and every
 * field it had. Runs the real consumer loop and start flow over in-memory ports.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeWorld } from './support/fake-world.js';
import {
  anyFields,
  isCutInDeadLetter,
  isFaithfulCopy,
  KNOWN_GAMES,
  statusAfter,
  verdictOf,
} from './support/entries.js';

describe('property: any entry fields (in-memory ports)', () => {
  it('never crash the consumer, write only what the contract allows, and dead-letter invalid entries with their rule', async () => {
    await fc.assert(
      fc.asyncProperty(anyFields, fc.boolean(), async (fields, gameMasterDown) => {
        const verdict = verdictOf(fields);
        const failing = new Set(gameMasterDown && verdict.valid ? [verdict.gameId] : []);
        const world = new FakeWorld(KNOWN_GAMES, failing);
        world.add(fields);
        const summary = await world.invoke();
        const { games, gameMaster, publisher, offsets } = world;

        expect(summary).toMatchObject({ entriesRead: 1, stoppedBy: 'drained', lastEntryId: '1-0' });
        expect(offsets.state).toEqual({ lastEntryId: '1-0', attempts: {} });
        const dead = publisher.published.filter((message) => message.stream === 'dead');
        if (!verdict.valid) {
          expect(games.writes).toEqual([]);
          expect(gameMaster.calls).toEqual([]);
          expect(dead).toHaveLength(1);
          const copy = dead[0]?.fields ?? [];
          expect(new Map(copy).get('dead_letter_reason')).toBe(verdict.reason);
          // Every original field is carried over, in order (our own names excepted), values
          // over the limit cut and named in dead_letter_truncated.
          const originals = fields.filter(([name]) => !name.startsWith('dead_letter_'));
          originals.forEach(([name, value], index) => {
            expect(copy[index]?.[0]).toBe(name);
            expect(isFaithfulCopy(value, copy[index]?.[1])).toBe(true);
          });
          const cut = originals.filter(([, value]) => isCutInDeadLetter(value)).map(([name]) => name);
          expect(new Map(copy).get('dead_letter_truncated')).toBe(cut.length > 0 ? cut.join(',') : undefined);
          return;
        }
        for (const [gameId, initial] of Object.entries(KNOWN_GAMES)) {
          const expected = gameId === verdict.gameId ? statusAfter(verdict, initial, failing.has(gameId)) : initial;
          expect(games.status(gameId)).toBe(expected);
        }
        expect(games.writes.every((write) => write.startsWith(`${verdict.gameId}:`))).toBe(true);
        const known = verdict.gameId in KNOWN_GAMES && Object.hasOwn(KNOWN_GAMES, verdict.gameId);
        expect(dead.map((message) => new Map(message.fields).get('dead_letter_reason'))).toEqual(
          known ? [] : ['game_not_found'],
        );
      }),
      { numRuns: 400 },
    );
  });
});
