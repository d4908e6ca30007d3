import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deadLettersList, deadLettersPurge, deadLettersRequeue } from '../../ops/commands/dead-letters.js';
import { ExitCode } from '../../ops/errors.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { runOps, success, xadd } from './support.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.cleanup();
});
beforeEach(async () => {
  await h.redis.exec(['DEL', h.streams.deadLetters]);
});

/** A dead letter as the consumer writes it, with fields of the original entry first. */
const deadLetter = (fields: Record<string, string>, sourceId: string, reason = 'game_not_found'): Promise<string> =>
  xadd(h, h.streams.deadLetters, {
    ...fields,
    dead_letter_source_id: sourceId,
    dead_letter_reason: reason,
    dead_letter_attempts: '1',
    dead_letter_at_ms: '1718000000000',
  });

describe('ops dead-letters', () => {
  it('list: the oldest N with source, reason, attempts and time, and the total', async () => {
    for (let i = 1; i <= 3; i += 1) await deadLetter({ game_id: `dl-list-${i}`, outcome: 'failure' }, `${i}-0`);
    const run = await runOps(h, (ctx) => deadLettersList(ctx, { limit: 2 }));
    expect(run.code).toBe(ExitCode.ok);
    expect(run.result?.total).toBe(3);
    expect(run.result?.deadLetters).toHaveLength(2);
    expect(run.result?.deadLetters[0]).toMatchObject({
      sourceId: '1-0',
      reason: 'game_not_found',
      attempts: 1,
      at: '2024-06-10T06:13:20.000Z',
      gameId: 'dl-list-1',
      fields: { game_id: 'dl-list-1', outcome: 'failure' },
    });
    expect(run.stdout).toMatch(/dead letter\s+source entry\s+game\s+reason/);
    expect(run.stdout).toContain('2 of 3 dead letters');
  });

  it('list: an empty stream says so', async () => {
    const run = await runOps(h, (ctx) => deadLettersList(ctx));
    expect(run.stdout).toContain('(none)');
    expect(run.result).toMatchObject({ total: 0, deadLetters: [] });
  });

  it('requeue: the original fields go back with requeued_from, the dead letter goes, the consumer applies it', async () => {
    await h.putGame({ gameId: 'dl-rq', status: 'starting' });
    const first = await deadLetter(
      { ...success('dl-rq'), requeued_from: 'an-older-one', dead_letter_note: 'of the producer' },
      '5-0',
      'retries_exhausted: ThrottlingException',
    );
    const other = await deadLetter({ game_id: 'dl-other', outcome: 'failure' }, '6-0');

    const run = await runOps(h, (ctx) => deadLettersRequeue(ctx, [first]), { json: true });
    expect(run.code).toBe(ExitCode.ok);
    const { requeued } = JSON.parse(run.stdout) as { requeued: { deadLetterId: string; entryId: string }[] };
    expect(requeued).toHaveLength(1);
    expect(requeued[0]?.deadLetterId).toBe(first);

    const results = await h.read(h.streams.results);
    const back = results.find((message) => message.id === requeued[0]?.entryId);
    // Only the consumer's own dead_letter_* fields go; the producer's stay.
    expect(back?.fields).toEqual({ ...success('dl-rq'), dead_letter_note: 'of the producer', requeued_from: first });
    expect((await h.read(h.streams.deadLetters)).map((message) => message.id)).toEqual([other]);

    expect(await h.invoke()).toMatchObject({ applied: 1 });
    expect(await h.getGame('dl-rq')).toMatchObject({ status: 'running' });
  });

  it('requeue: an id that is not a dead letter exits 5 and requeues nothing', async () => {
    const present = await deadLetter({ game_id: 'dl-missing', outcome: 'failure' }, '7-0');
    const before = (await h.read(h.streams.results)).length;
    const run = await runOps(h, (ctx) => deadLettersRequeue(ctx, [present, '1-1']));
    expect(run.code).toBe(ExitCode.notFound);
    expect(run.stderr).toContain('1-1');
    expect(run.stderr).toContain('nothing was requeued');
    expect(await h.read(h.streams.results)).toHaveLength(before);
    expect((await h.read(h.streams.deadLetters)).map((message) => message.id)).toEqual([present]);
  });

  it('requeue: when the copy cannot be added, the dead letter stays and it exits 1', async () => {
    const id = await deadLetter({ game_id: 'dl-wrongtype', outcome: 'failure' }, '8-0');
    const broken = `${h.streams.results}:not-a-stream`;
    await h.redis.exec(['SET', broken, 'a string']);
    try {
      const run = await runOps({ ...h, env: { ...h.env, RESULTS_STREAM: broken } }, (ctx) =>
        deadLettersRequeue(ctx, [id]),
      );
      expect(run.code).toBe(ExitCode.operational);
      expect(run.stderr).toContain('WRONGTYPE');
      expect((await h.read(h.streams.deadLetters)).map((message) => message.id)).toEqual([id]);
    } finally {
      await h.redis.exec(['DEL', broken]);
    }
  });

  it('requeue: needs ids or --all, not both', async () => {
    expect((await runOps(h, (ctx) => deadLettersRequeue(ctx, []))).code).toBe(ExitCode.usage);
    expect((await runOps(h, (ctx) => deadLettersRequeue(ctx, ['1-0'], { all: true }))).code).toBe(ExitCode.usage);
  });

  it('requeue --all: every dead letter, across pages, in order, with a progress bar', async () => {
    const sources: string[] = [];
    for (let i = 0; i < 130; i += 1) {
      sources.push(await deadLetter({ game_id: `dl-all-${i}`, outcome: 'failure' }, `${100 + i}-0`));
    }
    const before = (await h.read(h.streams.results)).length;
    const run = await runOps(h, (ctx) => deadLettersRequeue(ctx, [], { all: true }), { progress: true });
    expect(run.code).toBe(ExitCode.ok);
    expect(run.result?.requeued.map((row) => row.deadLetterId)).toEqual(sources);
    expect(run.stdout).toContain('130 requeued');
    expect(run.progress).toContain('130/130');
    const results = await h.read(h.streams.results);
    expect(results).toHaveLength(before + 130);
    expect(results.slice(before).map((message) => message.fields.requeued_from)).toEqual(sources);
    expect(await h.read(h.streams.deadLetters)).toEqual([]);
  });

  it('purge --before: deletes the older ones after a yes', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i += 1)
      ids.push(await deadLetter({ game_id: `dl-purge-${i}`, outcome: 'failure' }, `${200 + i}-0`));
    const cut = ids[2] as string;

    const declined = await runOps(h, (ctx) => deadLettersPurge(ctx, cut), { answer: false });
    expect(declined.code).toBe(ExitCode.refused);
    expect(declined.stderr).toContain('2 dead letters older than');
    expect(await h.read(h.streams.deadLetters)).toHaveLength(4);

    const run = await runOps(h, (ctx) => deadLettersPurge(ctx, cut), { answer: true });
    expect(run.code).toBe(ExitCode.ok);
    expect(run.result).toEqual({ removed: 2 });
    expect((await h.read(h.streams.deadLetters)).map((message) => message.id)).toEqual(ids.slice(2));

    const nothing = await runOps(h, (ctx) => deadLettersPurge(ctx, cut, { yes: true }));
    expect(nothing.result).toEqual({ removed: 0 });
    expect(nothing.questions).toEqual([]);
  });
});
