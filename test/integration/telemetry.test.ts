import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHarness } from '../support/consumer-harness.js';
import type { Harness } from '../support/consumer-harness.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness({ POWERTOOLS_LOG_LEVEL: 'INFO' });
});
afterAll(async () => {
  await h.cleanup();
});

/** Runs `work` and returns every JSON line it wrote to stdout and stderr (WARN and up). */
const capture = async (work: () => Promise<unknown>): Promise<Record<string, unknown>[]> => {
  const lines: string[] = [];
  const record = (chunk: string | Uint8Array): boolean => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(record),
    vi.spyOn(process.stderr, 'write').mockImplementation(record),
  ];
  try {
    await work();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
};

describe('logs and metrics', () => {
  it('writes one JSON line per event with the entry and game on every per-entry line', async () => {
    await h.putGame({ gameId: 'tel-1', status: 'starting' });
    await h.putGame({ gameId: 'tel-2', status: 'starting' });
    h.gameMaster.setBehaviour('tel-2', { kind: 'fail' });
    await h.addResult({ game_id: 'tel-1', outcome: 'failure', error_code: 'E42' });
    await h.addResult({ game_id: 'tel-2', outcome: 'success', container_id: 'c', engine_endpoint: 'http://e/' });
    const previous = process.env.POWERTOOLS_METRICS_DISABLED;
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const lines = await capture(() => h.invoke({ env: {} })).finally(() => {
      process.env.POWERTOOLS_METRICS_DISABLED = previous;
    });

    const logs = lines.filter((line) => typeof line.message === 'string');
    const perEntry = logs.filter((line) => 'stream_entry_id' in line);
    expect(perEntry.map((line) => line.message)).toEqual(
      expect.arrayContaining(['game start failed', 'gm registration failed; pause-after-start path']),
    );
    for (const line of perEntry) {
      expect(line).toMatchObject({ service: 'lobby', function_request_id: expect.any(String) });
      expect(line.game_id).toMatch(/^tel-/);
    }
    expect(logs.find((line) => line.message === 'game start failed')).toMatchObject({
      level: 'INFO',
      from_status: 'starting',
      to_status: 'start_failed',
      trigger: 'runtime_event',
      error_code: 'E42',
    });

    const emf = lines.filter((line) => '_aws' in line);
    const metric = (name: string) => emf.filter((line) => name in line);
    expect(metric('lobby.start_flow.outcomes').map((l) => [l.outcome, l['lobby.start_flow.outcomes']])).toEqual(
      expect.arrayContaining([
        ['start_failed', 1],
        ['paused', 1],
      ]),
    );
    expect(metric('lobby.game.transitions')[0]).toMatchObject({
      from_status: 'starting',
      trigger: 'runtime_event',
      service: 'lobby',
    });
    expect(metric('lobby.start_flow.entries').map((l) => l.result)).toContain('applied');
    expect(metric('lobby.start_flow.consumer_lag_age')[0]).toMatchObject({
      'lobby.start_flow.consumer_lag_entries': 0,
    });
    const namespaces = emf.map(
      (line) => (line._aws as { CloudWatchMetrics: { Namespace: string }[] }).CloudWatchMetrics[0]?.Namespace,
    );
    expect(new Set(namespaces)).toEqual(new Set(['Galaxy/Lobby']));
  });

  it('in follow mode, reports the time followed, the empty polls and the hand-over wait', async () => {
    const previous = process.env.POWERTOOLS_METRICS_DISABLED;
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const lines = await capture(() =>
      h.invoke({ timeoutMs: 3_000, env: { POLL_INTERVAL_MS: '100', TIME_BUDGET_MARGIN_MS: '1000' } }),
    ).finally(() => {
      process.env.POWERTOOLS_METRICS_DISABLED = previous;
    });

    const finished = lines.find((line) => line.message === 'runtime job results invocation finished');
    expect(finished).toMatchObject({
      stoppedBy: 'drained',
      followedMs: expect.any(Number),
      emptyPolls: expect.any(Number),
      handoverWaitMs: 0,
    });
    expect(finished?.emptyPolls).toBeGreaterThan(0);
    const emf = lines.find((line) => '_aws' in line && 'lobby.start_flow.empty_polls' in line);
    expect(emf).toMatchObject({
      'lobby.start_flow.followed_time': finished?.followedMs,
      'lobby.start_flow.empty_polls': finished?.emptyPolls,
      'lobby.start_flow.handover_wait': 0,
      service: 'lobby',
    });
    if (emf === undefined) throw new Error('no EMF record of the follow metrics');
    const units = (emf._aws as { CloudWatchMetrics: { Metrics: { Name: string; Unit: string }[] }[] })
      .CloudWatchMetrics[0]?.Metrics;
    expect(units).toEqual(
      expect.arrayContaining([
        { Name: 'lobby.start_flow.followed_time', Unit: 'Milliseconds' },
        { Name: 'lobby.start_flow.empty_polls', Unit: 'Count' },
        { Name: 'lobby.start_flow.handover_wait', Unit: 'Milliseconds' },
      ]),
    );
  });

  it('puts the stage on every metric as a dimension, and on every log line, when STAGE is set', async () => {
    await h.putGame({ gameId: 'tel-stage', status: 'starting' });
    await h.addResult({ game_id: 'tel-stage', outcome: 'failure', error_code: 'E7' });
    const previous = process.env.POWERTOOLS_METRICS_DISABLED;
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const lines = await capture(() => h.invoke({ env: { STAGE: 'prod-eu' } })).finally(() => {
      process.env.POWERTOOLS_METRICS_DISABLED = previous;
    });

    const emf = lines.filter((line) => '_aws' in line);
    expect(emf.length).toBeGreaterThan(2);
    for (const line of emf) {
      expect(line.stage).toBe('prod-eu');
      const dimensions = (line._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0]
        ?.Dimensions[0];
      expect(dimensions).toEqual(expect.arrayContaining(['service', 'stage']));
    }
    const logs = lines.filter((line) => typeof line.message === 'string');
    expect(logs.length).toBeGreaterThan(0);
    for (const line of logs) expect(line.stage).toBe('prod-eu');
  });

  it("puts the invocation's CPU time on the summary line: this invocation's, not the process's", async () => {
    await h.putGame({ gameId: 'tel-cpu', status: 'starting' });
    await h.addResult({ game_id: 'tel-cpu', outcome: 'failure', error_code: 'E1' });
    const before = process.cpuUsage();
    const lines = await capture(() => h.invoke({ env: {} }));
    const around = process.cpuUsage(before);

    const finished = lines.find((line) => line.message === 'runtime job results invocation finished');
    expect(finished).toMatchObject({ entriesRead: 1, cpuMs: expect.any(Number) });
    const cpuMs = finished?.cpuMs as number;
    expect(cpuMs).toBeGreaterThan(0);
    // The handler runs in this process: its figure fits inside what the process spent around the call.
    expect(cpuMs).toBeLessThanOrEqual(Math.ceil((around.user + around.system) / 1_000));
  });

  it('never writes the Upstash or Game Master token to a log line', async () => {
    await h.putGame({ gameId: 'tel-3', status: 'starting' });
    h.gameMaster.setBehaviour('tel-3', { kind: 'fail' });
    await h.addResult({ game_id: 'tel-3', outcome: 'success', container_id: 'c', engine_endpoint: 'http://e/' });
    const gmToken = 'gm-token-that-must-not-leak';
    const lines = await capture(() => h.invoke({ env: { GM_API_TOKEN: gmToken, POWERTOOLS_LOG_LEVEL: 'DEBUG' } }));
    const text = JSON.stringify(lines);
    expect(lines.length).toBeGreaterThan(0);
    expect(text).not.toContain(gmToken);
    expect(text).not.toContain(h.env.UPSTASH_REDIS_REST_TOKEN);
  });
});
