/**
 * In-memory fakes of the ports, for unit tests of the start-flow decisions and the
 * consumer loop. Each behaviour they pin is also covered against the real systems in
 * `test/integration/`.
 */
import { ConflictError, NotFoundError } from '../../functions/runtime-job-results/errors.js';
import type {
  Game,
  PendingIntent,
  RuntimeBinding,
  StartFlowClaim,
} from '../../functions/runtime-job-results/domain/game.js';
import { assertTransitionAllowed } from '../../functions/runtime-job-results/domain/transitions.js';
import { compareEntryIds } from '../../functions/runtime-job-results/domain/entry-id.js';
import type { RawEntry } from '../../functions/runtime-job-results/domain/job-result.js';
import type {
  BindResult,
  EntryMarker,
  GameMaster,
  GameStore,
  LeaseResult,
  OffsetState,
  OffsetStore,
  OutboundMessage,
  RegisterGameRequest,
  LeaseAsk,
  ResultStream,
  StreamPage,
  StreamPublisher,
  UpdateStatusInput,
} from '../../functions/runtime-job-results/ports.js';
import { LeaseLostError } from '../../functions/runtime-job-results/errors.js';
import type { Log, LogAttributes } from '../../functions/runtime-job-results/telemetry/log.js';
import type { ConsumerTelemetry, FollowStats } from '../../functions/runtime-job-results/telemetry/metrics-recorder.js';
import type { Transition } from '../../functions/runtime-job-results/domain/transitions.js';
import type { EntryResult } from '../../functions/runtime-job-results/start-flow/outcome.js';
import type { StartFlowOutcome } from '../../functions/runtime-job-results/telemetry/metric-names.js';
import type { ConsumerSettings } from '../../functions/runtime-job-results/consumer/settings.js';

export interface StoredGame extends Game {
  runtimeBinding?: RuntimeBinding;
  pendingIntent?: PendingIntent;
  startFlowClaim?: StartFlowClaim;
}

/** Fails the next calls of one method with `error`, `times` times. */
type Faults = Partial<Record<keyof GameStore, { error: Error; times: number }>>;

export class FakeGameStore implements GameStore {
  readonly games = new Map<string, StoredGame>();
  readonly faults: Faults = {};
  readonly writes: string[] = [];
  /** Runs before a binding write reads the game: lets a test move the game on first (a race). */
  beforeBinding: ((gameId: string) => void) | undefined;
  /** Status writes to these statuses fail with the error, every time, while it is set. */
  readonly failingTransitionsTo = new Map<string, Error>();

  put(game: Partial<StoredGame> & { gameId: string; status: string }): void {
    this.games.set(game.gameId, {
      gameName: `Game ${game.gameId}`,
      targetEngineVersion: '1.4.2',
      turnSchedule: '0 */6 * * *',
      ...game,
    });
  }

  status(gameId: string): string | undefined {
    return this.games.get(gameId)?.status;
  }

  #fault(method: keyof GameStore): void {
    const fault = this.faults[method];
    if (fault && fault.times > 0) {
      fault.times -= 1;
      throw fault.error;
    }
  }

  async bindRuntime(gameId: string, binding: RuntimeBinding): Promise<BindResult> {
    this.#fault('bindRuntime');
    this.beforeBinding?.(gameId);
    const game = this.games.get(gameId);
    if (!game) throw new NotFoundError(gameId);
    if (game.status !== 'starting') return { bound: false, game: { ...game } };
    const bound = { ...game, runtimeBinding: binding };
    this.games.set(gameId, bound);
    this.writes.push(`${gameId}:binding`);
    return { bound: true, game: { ...bound } };
  }

  async getGame(gameId: string): Promise<Game> {
    this.#fault('getGame');
    const game = this.games.get(gameId);
    if (!game) throw new NotFoundError(gameId);
    return { ...game };
  }

  async updateStatus(input: UpdateStatusInput): Promise<void> {
    this.#fault('updateStatus');
    const failing = this.failingTransitionsTo.get(input.transition.to);
    if (failing !== undefined) throw failing;
    assertTransitionAllowed(input.transition);
    const { startFlowClaim: _ended, ...game } = this.#expect(input.gameId, input.transition.from);
    this.games.set(input.gameId, {
      ...game,
      status: input.transition.to,
      ...(input.pendingIntent ? { pendingIntent: input.pendingIntent } : {}),
    });
    this.writes.push(`${input.gameId}:${input.transition.from}->${input.transition.to}`);
  }

  async clearMarker(gameId: string, marker: EntryMarker, sourceEntryId: string): Promise<void> {
    this.#fault('clearMarker');
    const game = this.games.get(gameId);
    if (game?.[marker]?.sourceEntryId === sourceEntryId) {
      const rest: StoredGame = { ...game };
      delete rest[marker];
      this.games.set(gameId, rest);
    }
  }

  #expect(gameId: string, status: string): StoredGame {
    const game = this.games.get(gameId);
    if (!game) throw new NotFoundError(gameId);
    if (game.status !== status) throw new ConflictError(gameId, status, game.status);
    return game;
  }
}

export class FakeGameMaster implements GameMaster {
  readonly calls: RegisterGameRequest[] = [];
  readonly failing = new Set<string>();

  async registerRuntime(request: RegisterGameRequest): Promise<void> {
    this.calls.push(request);
    if (this.failing.has(request.gameId)) throw new Error('Game Master unavailable: HTTP 503');
  }
}

export class FakePublisher implements StreamPublisher {
  readonly published: OutboundMessage[] = [];
  failNext = 0;
  /** The probe write fails while publishing still fails (`failNext`), or always when set. */
  probeFails: boolean | undefined;
  probes = 0;

  async probeWrite(): Promise<void> {
    this.probes += 1;
    if (this.probeFails ?? this.failNext > 0) throw new Error('probe failed');
  }

  async publish(messages: readonly OutboundMessage[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('publish failed');
    }
    this.published.push(...messages);
  }

  on(stream: string): Record<string, string>[] {
    return this.published.filter((m) => m.stream === stream).map((m) => Object.fromEntries(m.fields));
  }
}

export class FakeResultStream implements ResultStream {
  readonly entries: RawEntry[] = [];
  reads = 0;
  /** The standing lease ask, as the real stream keeps it beside the stream key. */
  ask: LeaseAsk | undefined;
  readonly asks: LeaseAsk[] = [];

  async askForLease(ask: LeaseAsk): Promise<void> {
    this.ask = ask;
    this.asks.push(ask);
  }

  add(id: string, fields: Record<string, string>): void {
    this.entries.push({ id, fields: Object.entries(fields) });
  }

  async readAfter(afterId: string, count: number): Promise<StreamPage> {
    this.reads += 1;
    return {
      entries: this.entries.filter((e) => compareEntryIds(e.id, afterId) > 0).slice(0, count),
      cutShort: false,
      ...(this.ask === undefined ? {} : { ask: this.ask }),
    };
  }

  async lastGeneratedId(): Promise<string | undefined> {
    return this.entries.at(-1)?.id;
  }

  /** Set by a test that trims the stream. */
  deletedUpTo: string | undefined;

  async maxDeletedId(): Promise<string | undefined> {
    return this.deletedUpTo;
  }

  async backlogAfter(afterId: string, cap: number): Promise<{ count: number; oldestId: string | undefined }> {
    const after = this.entries.filter((e) => compareEntryIds(e.id, afterId) > 0);
    return { count: Math.min(after.length, cap), oldestId: after[0]?.id };
  }
}

export class FakeOffsetStore implements OffsetStore {
  state: OffsetState = { lastEntryId: '0-0', attempts: {} };
  lease: { owner: string; expiresAtMs: number } | undefined;
  readonly commits: OffsetState[] = [];

  async acquireLease(owner: string, expiresAtMs: number, nowMs: number): Promise<LeaseResult> {
    if (this.lease && this.lease.expiresAtMs >= nowMs)
      return { acquired: false, heldBy: this.lease, state: this.state };
    this.lease = { owner, expiresAtMs };
    return { acquired: true, state: this.state };
  }

  async commit(owner: string, state: OffsetState): Promise<void> {
    if (this.lease?.owner !== owner) throw new LeaseLostError(owner);
    this.state = state;
    this.commits.push(state);
  }

  lastInvocation: Readonly<Record<string, string | number>> | undefined;

  async releaseLease(owner: string, lastInvocation?: Readonly<Record<string, string | number>>): Promise<void> {
    if (this.lease?.owner !== owner) return;
    this.lease = undefined;
    this.lastInvocation = lastInvocation;
  }
}

export interface LogLine extends LogAttributes {
  level: string;
  message: string;
}

export class RecordingLog implements Log {
  readonly lines: LogLine[] = [];
  debug(message: string, attributes: LogAttributes): void {
    this.lines.push({ level: 'DEBUG', message, ...attributes });
  }
  info(message: string, attributes: LogAttributes): void {
    this.lines.push({ level: 'INFO', message, ...attributes });
  }
  warn(message: string, attributes: LogAttributes): void {
    this.lines.push({ level: 'WARN', message, ...attributes });
  }
  error(message: string, attributes: LogAttributes): void {
    this.lines.push({ level: 'ERROR', message, ...attributes });
  }
  messages(): string[] {
    return this.lines.map((line) => line.message);
  }
}

export class RecordingTelemetry implements ConsumerTelemetry {
  readonly transitions: string[] = [];
  readonly outcomes: StartFlowOutcome[] = [];
  readonly entries: EntryResult[] = [];
  deadLetters = 0;
  transientErrors = 0;
  offsetAheadCount = 0;
  lastLag: { ageMs: number; entries: number } | undefined;

  transition(t: Transition): void {
    this.transitions.push(`${t.from}->${t.to}`);
  }
  outcome(o: StartFlowOutcome): void {
    this.outcomes.push(o);
  }
  entry(r: EntryResult): void {
    this.entries.push(r);
  }
  deadLetter(): void {
    this.deadLetters += 1;
  }
  transientError(): void {
    this.transientErrors += 1;
  }
  offsetAhead(): void {
    this.offsetAheadCount += 1;
  }
  entriesTrimmedCount = 0;
  entriesTrimmed(): void {
    this.entriesTrimmedCount += 1;
  }
  publishAbandonedCount = 0;
  publishAbandoned(): void {
    this.publishAbandonedCount += 1;
  }
  lag(ageMs: number, entries: number): void {
    this.lastLag = { ageMs, entries };
  }
  lastFollow: FollowStats | undefined;
  follow(stats: FollowStats): void {
    this.lastFollow = stats;
  }
}

/** Consumer settings for tests of the loop: small, no backoff, drain mode unless overridden. */
export const testSettings = (overrides: Partial<ConsumerSettings> = {}): ConsumerSettings => ({
  batchSize: 100,
  prefetch: true,
  maxConcurrency: 4,
  maxAttempts: 5,
  timeBudgetMarginMs: 1_000,
  attemptsPerInvocation: 2,
  retryBackoffMs: 0,
  pollIntervalMs: 0,
  pollIdleMaxMs: 1_000,
  deadLetterStream: 'dead',
  ...overrides,
});
