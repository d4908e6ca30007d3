/**
 * Replays change nothing: a stream where results are delivered again — anywhere after
 * their first delivery, any number of times, read in batches of any size, with transient
 * faults on the way — ends in the same state as the stream where each is delivered once:
 * same statuses, the same results dead-lettered, the same paused results notified, Game
 * Master registered for the same results.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeWorld } from './support/fake-world.js';

const GAMES = ['a', 'b', 'c', 'd'] as const;
const STATUSES = ['starting', 'starting', 'starting', 'running', 'cancelled'] as const;

const result = fc.record({
  gameId: fc.constantFrom(...GAMES, 'ghost'),
  outcome: fc.constantFrom('success', 'failure', 'bogus'),
});

const scenario = fc
  .record({
    statuses: fc.tuple(...GAMES.map(() => fc.constantFrom(...STATUSES))),
    gameMasterDown: fc.subarray([...GAMES]),
    results: fc.array(result, { minLength: 1, maxLength: 8 }),
    batchSize: fc.integer({ min: 1, max: 5 }),
    faults: fc.integer({ min: 0, max: 3 }),
    seedForCopies: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 10 }),
  })
  .map((drawn) => {
    // Each extra copy of result i goes anywhere after its first delivery.
    const order: number[] = drawn.results.map((_, index) => index);
    for (const [which, where] of drawn.seedForCopies) {
      const index = which % drawn.results.length;
      const first = order.indexOf(index);
      order.splice(first + 1 + (where % (order.length - first)), 0, index);
    }
    return { ...drawn, order };
  });

const fieldsOf = (r: Drawn['results'][number], index: number): [string, string][] => [
  ['game_id', r.gameId],
  ['outcome', r.outcome],
  ['container_id', `ctr-${index}`],
  ['engine_endpoint', 'http://engine.galaxy.internal/'],
];

/** Drains `order` (indexes into the results) and reports the end state by result index. */
interface Drawn {
  readonly statuses: readonly string[];
  readonly gameMasterDown: readonly string[];
  readonly results: readonly { readonly gameId: string; readonly outcome: string }[];
  readonly batchSize: number;
}

const endState = async (s: Drawn, order: readonly number[], faults: number) => {
  const world = new FakeWorld(
    Object.fromEntries(GAMES.map((gameId, i) => [gameId, s.statuses[i] as string])),
    s.gameMasterDown,
  );
  const resultOf = new Map<string, number>();
  for (const index of order)
    resultOf.set(world.add(fieldsOf(s.results[index] as Drawn['results'][number], index)), index);
  world.games.faults.updateStatus = { error: new Error('ThrottlingException'), times: faults };
  world.games.faults.bindRuntime = { error: new Error('socket hang up'), times: faults };
  world.publisher.failNext = Math.min(faults, 1);
  await world.drain({ batchSize: s.batchSize });
  const sourceOf = (entryId: string | undefined): number => resultOf.get(entryId ?? '') ?? -1;
  const sorted = (values: number[]): number[] => [...new Set(values)].sort((x, y) => x - y);
  return {
    statuses: GAMES.map((gameId) => world.games.status(gameId)),
    deadLettered: sorted(world.on('dead').map((m) => sourceOf(m.get('dead_letter_source_id')))),
    notified: sorted(world.on('intents').map((m) => sourceOf(m.get('idempotency_key')?.split(':').at(-1)))),
    registered: sorted(world.gameMaster.calls.map((call) => sourceOf(call.idempotencyKey))),
    outboxes: GAMES.filter((gameId) => world.games.games.get(gameId)?.pendingIntent !== undefined),
  };
};

describe('property: duplicate deliveries (in-memory ports)', () => {
  it('end in the same state as delivering each result once', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const once = await endState(
          s,
          s.results.map((_, index) => index),
          0,
        );
        const replayed = await endState(s, s.order, s.faults);
        expect(replayed).toEqual(once);
        expect(once.outboxes).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
