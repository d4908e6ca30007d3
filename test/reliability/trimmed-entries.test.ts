/**
 * Results trimmed from the stream (`MAXLEN`, `XTRIM`, `XDEL`) before the consumer read them
 * are gone; the read just continues at the first entry left. That must not pass unnoticed:
 * the invocation warns, counts `lobby.start_flow.entries_trimmed` (alarmed on) and does not
 * move the offset on its own account.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';
import { captureLogs, problems } from './support/capture-logs.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness({ POWERTOOLS_LOG_LEVEL: 'WARN' });
});
afterAll(async () => {
  await h.cleanup();
});

const invoke = async () => {
  const snapshots: Record<string, number>[] = [];
  const run = await captureLogs(() => h.invoke({ handler: { onMetrics: (snapshot) => snapshots.push(snapshot) } }));
  return { ...run, warnings: problems(run.logs), metrics: snapshots[0] ?? {} };
};

const TRIMMED = 'lobby.start_flow.entries_trimmed|';

describe('entries trimmed before they were read', () => {
  it('warn and count a metric; the offset moves only past what was read', async () => {
    for (const id of ['trim-1', 'trim-2', 'trim-3']) await h.putGame({ gameId: id, status: 'starting' });
    const first = await h.addResult({ game_id: 'trim-1', outcome: 'failure' });
    const second = await h.addResult({ game_id: 'trim-2', outcome: 'failure' });
    const kept = await h.addResult({ game_id: 'trim-3', outcome: 'failure' });
    await h.redis.exec(['XDEL', h.streams.results, first, second]);

    const run = await invoke();
    expect(run.result).toMatchObject({ stoppedBy: 'drained', entriesRead: 1, lastEntryId: kept });
    expect(run.metrics[TRIMMED]).toBe(1);
    expect(run.warnings).toEqual([
      expect.objectContaining({
        level: 'WARN',
        message: 'entries after the offset were trimmed from the results stream before they were read',
        last_entry_id: '0-0',
        max_deleted_entry_id: second,
        first_entry_read: kept,
      }),
    ]);
    // The trimmed results are not invented back: their games are untouched.
    expect(await h.getGame('trim-1')).toMatchObject({ status: 'starting' });
    expect(await h.getGame('trim-3')).toMatchObject({ status: 'start_failed' });
  });

  it('entries trimmed after they were read are not reported', async () => {
    await h.putGame({ gameId: 'trim-4', status: 'starting' });
    const read = (await h.offsetItem())?.lastEntryId as string;
    const next = await h.addResult({ game_id: 'trim-4', outcome: 'failure' });
    // Everything up to the offset goes, as MAXLEN trimming does with old entries.
    await h.redis.exec(['XTRIM', h.streams.results, 'MINID', next]);
    expect((await h.read(h.streams.results)).map((m) => m.id)).not.toContain(read);

    const run = await invoke();
    expect(run.result).toMatchObject({ stoppedBy: 'drained', lastEntryId: next });
    expect(run.metrics).not.toHaveProperty(TRIMMED);
    expect(run.warnings).toEqual([]);
  });
});
