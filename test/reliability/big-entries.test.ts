/**
 * One entry cannot stall the consumer: an entry over the size or field limits is
 * dead-lettered with a reason naming the limit (without being loaded into the function), a
 * read stops at its byte budget, and a message that alone cannot be published is told apart
 * from an outage by a probe write and given up after MAX_ATTEMPTS.
 */
import { Redis as IoRedis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import {
  READ_BUDGET_BYTES,
  UpstashResultStream,
} from '../../functions/runtime-job-results/adapters/upstash-result-stream.js';
import { limits } from '../../functions/runtime-job-results/domain/job-result.js';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { testStack } from '../support/stack.js';
import { captureLogs } from './support/capture-logs.js';
import { testBounds } from '../support/bounds.js';

let h: Harness;

afterEach(async () => {
  await h.cleanup();
});

/** Appends over Redis's own protocol, as Runtime Manager does: the REST body limit does not apply. */
const addDirect = async (fields: readonly string[]): Promise<string> => {
  const stack = testStack();
  const direct = new IoRedis({
    host: stack.redisHost,
    port: stack.redisPort,
    password: stack.redisPassword,
    lazyConnect: true,
  });
  await direct.connect();
  try {
    return String(await direct.xadd(h.streams.results, '*', ...fields));
  } finally {
    direct.disconnect();
  }
};

const deadLetterOf = async (entryId: string) =>
  (await h.read(h.streams.deadLetters)).find((m) => m.fields.dead_letter_source_id === entryId)?.fields;

describe('entries over the limits', () => {
  it('dead-letters an 11 MB entry as entry_too_large without reading it, and goes on', async () => {
    h = await createHarness();
    const huge = await addDirect(['game_id', 'ghost', 'outcome', 'failure', 'error_message', 'x'.repeat(11_000_000)]);
    await h.putGame({ gameId: 'behind', status: 'starting' });
    const last = await h.addResult({ game_id: 'behind', outcome: 'failure' });

    expect(await h.invoke()).toMatchObject({ invalid: 1, applied: 1, stoppedBy: 'drained', lastEntryId: last });
    // Only the game id came back from the read, for the dead letter: not 11 MB of it.
    expect(await deadLetterOf(huge)).toEqual({
      game_id: 'ghost',
      dead_letter_source_id: huge,
      dead_letter_reason: 'entry_too_large',
      dead_letter_attempts: '1',
      dead_letter_at_ms: expect.any(String),
    });
    expect(await h.getGame('behind')).toMatchObject({ status: 'start_failed' });
  }, 60_000);

  it('dead-letters an entry with too many fields as too_many_fields', async () => {
    h = await createHarness();
    const fields = Object.fromEntries(Array.from({ length: limits.entryFields + 1 }, (_, i) => [`f${i}`, 'v']));
    const entryId = await h.addResult({ game_id: 'g', outcome: 'failure', ...fields });
    expect(await h.invoke()).toMatchObject({ invalid: 1, lastEntryId: entryId });
    expect(await deadLetterOf(entryId)).toMatchObject({ game_id: 'g', dead_letter_reason: 'too_many_fields' });
    expect(await deadLetterOf(entryId)).not.toHaveProperty('f0');
  });

  it('reads no more than its byte budget at once, and still drains the stream in one invocation', async () => {
    h = await createHarness();
    await h.putGame({ gameId: 'big', status: 'running' });
    const value = 'x'.repeat(limits.entryBytes - 100);
    const count = Math.ceil(READ_BUDGET_BYTES / value.length) + 5;
    let last = '';
    for (let i = 0; i < count; i += 1)
      last = await h.addResult({ game_id: 'big', outcome: 'failure', error_message: value });

    const page = await new UpstashResultStream(h.redis, h.streams.results, testBounds('Upstash')).readAfter(
      '0-0',
      1_000,
    );
    expect(page.cutShort).toBe(true);
    expect(page.entries.length).toBeLessThan(count);
    expect(page.entries.length * value.length).toBeLessThanOrEqual(READ_BUDGET_BYTES);

    expect(await h.invoke()).toMatchObject({
      entriesRead: count,
      ignored: count,
      stoppedBy: 'drained',
      lastEntryId: last,
    });
  }, 60_000);
});

describe('a message that alone cannot be published', () => {
  // The dead-letter key holds another type: every XADD to it fails (WRONGTYPE) while Upstash
  // takes other writes. Before the probe write this was taken for an outage and waited on
  // forever; now each try counts and the entry is given up after MAX_ATTEMPTS.
  it('is given up after MAX_ATTEMPTS, to the error log and the publish_abandoned metric', async () => {
    h = await createHarness({ MAX_ATTEMPTS: '2', POWERTOOLS_LOG_LEVEL: 'ERROR' });
    const invalid = await h.addResult({ game_id: 'bad id', outcome: 'failure' });
    await h.redis.exec(['SET', h.streams.deadLetters, 'not a stream']);
    const metrics: Record<string, number>[] = [];
    const invoke = () => captureLogs(() => h.invoke({ handler: { onMetrics: (m) => metrics.push(m) } }));

    expect((await invoke()).result).toMatchObject({ stoppedBy: 'transient_error', lastEntryId: '0-0' });
    const last = await invoke();
    expect(last.result).toMatchObject({ invalid: 1, stoppedBy: 'drained', lastEntryId: invalid });
    expect(metrics[1]).toMatchObject({ 'lobby.start_flow.publish_abandoned|': 1 });
    expect(last.logs).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        message: 'giving up publishing the messages of a runtime job result; their content follows',
        stream_entry_id: invalid,
      }),
    );
    await h.redis.exec(['DEL', h.streams.deadLetters]);
  }, 60_000);
});
