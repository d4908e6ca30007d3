/**
 * The real consumer loop and start flow over the in-memory ports of test/support/fakes.ts:
 * cheap enough to run hundreds of generated cases.
 */
import { runInvocation } from '../../../functions/runtime-job-results/consumer/run-invocation.js';
import type { InvocationSummary } from '../../../functions/runtime-job-results/consumer/run-invocation.js';
import type { ConsumerSettings } from '../../../functions/runtime-job-results/consumer/settings.js';
import { StartFlow } from '../../../functions/runtime-job-results/start-flow/start-flow.js';
import {
  FakeGameMaster,
  FakeGameStore,
  FakeOffsetStore,
  FakePublisher,
  FakeResultStream,
  RecordingLog,
  RecordingTelemetry,
} from '../../support/fakes.js';

const SETTINGS: ConsumerSettings = {
  batchSize: 100,
  prefetch: true,
  maxConcurrency: 4,
  maxAttempts: 100,
  timeBudgetMarginMs: 0,
  attemptsPerInvocation: 2,
  retryBackoffMs: 0,
  deadLetterStream: 'dead',
};

export class FakeWorld {
  readonly games = new FakeGameStore();
  readonly gameMaster = new FakeGameMaster();
  readonly publisher = new FakePublisher();
  readonly stream = new FakeResultStream();
  readonly offsets = new FakeOffsetStore();
  readonly log = new RecordingLog();
  readonly telemetry = new RecordingTelemetry();
  #invocations = 0;

  constructor(games: Readonly<Record<string, string>>, failingGameMaster: Iterable<string> = []) {
    for (const [gameId, status] of Object.entries(games)) this.games.put({ gameId, status });
    for (const gameId of failingGameMaster) this.gameMaster.failing.add(gameId);
  }

  /** Appends an entry with id `<n>-0`, n counting from 1. */
  add(fields: readonly (readonly [string, string])[]): string {
    const id = `${this.stream.entries.length + 1}-0`;
    this.stream.entries.push({ id, fields });
    return id;
  }

  /** One invocation of the consumer. */
  async invoke(settings: Partial<ConsumerSettings> = {}): Promise<InvocationSummary> {
    this.#invocations += 1;
    const flow = new StartFlow({
      games: this.games,
      gameMaster: this.gameMaster,
      publisher: this.publisher,
      streams: { stopJobs: 'stop', notificationIntents: 'intents', deadLetters: 'dead' },
      log: this.log,
      telemetry: this.telemetry,
      nowMs: () => 1_000,
    });
    return runInvocation({
      offsets: this.offsets,
      stream: this.stream,
      publisher: this.publisher,
      games: this.games,
      process: (entry, hints) => flow.process(entry, hints),
      giveUp: (entry, attempts) => flow.giveUp(entry, attempts),
      settings: { ...SETTINGS, ...settings },
      log: this.log,
      telemetry: this.telemetry,
      invocationId: `invocation-${this.#invocations}`,
      nowMs: () => 1_000,
      remainingMs: () => 60_000,
      sleep: async () => undefined,
    });
  }

  /** Invokes until the offset is at the last entry; fails after `limit` invocations. */
  async drain(settings: Partial<ConsumerSettings> = {}, limit = 50): Promise<void> {
    const last = this.stream.entries.at(-1)?.id ?? '0-0';
    for (let i = 0; i < limit; i += 1) {
      const summary = await this.invoke(settings);
      if (summary.stoppedBy === 'drained' && this.offsets.state.lastEntryId === last) return;
    }
    throw new Error(`not drained after ${limit} invocations`);
  }

  /** Messages published to `stream`, as field maps. */
  on(stream: string): Map<string, string>[] {
    return this.publisher.published.filter((m) => m.stream === stream).map((m) => new Map(m.fields));
  }
}
