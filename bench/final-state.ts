/**
 * What a drained backlog leaves behind, in a form two runs can be compared in: entry ids
 * (which differ from run to run) are replaced by the entry's position in the backlog.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Redis } from 'ioredis';
import { pausedIntentKey } from '../functions/runtime-job-results/start-flow/messages.js';
import type { StreamNames } from '../functions/runtime-job-results/environment.js';

/** Output stream keys of one run. */
export type OutputStreams = Pick<StreamNames, 'stopJobs' | 'notificationIntents' | 'deadLetters'>;

export interface FinalState {
  /** Game id → status. */
  readonly statuses: Readonly<Record<string, string>>;
  /** Games still holding an unpublished intent (the outbox); 0 once drained. */
  readonly pendingIntents: number;
  /** `<game id>@#<backlog position>` of each stop job, sorted, replays folded. */
  readonly stopJobs: readonly string[];
  /** Idempotency key (entry id as `#<position>`) → the game named in the payload. */
  readonly intents: Readonly<Record<string, string>>;
  /** Dead-letter reason → backlog positions of the dead-lettered entries, sorted. */
  readonly deadLetters: Readonly<Record<string, readonly number[]>>;
  /** Messages on each output stream, replays included (at least once: not compared). */
  readonly messages: { readonly stopJobs: number; readonly intents: number; readonly deadLetters: number };
}

/** The part of a final state that must be the same whatever consumer produced it. */
export type ComparableState = Omit<FinalState, 'messages'>;

export interface FinalStateSources {
  readonly documents: DynamoDBDocumentClient;
  readonly gamesTable: string;
  readonly redis: Redis;
  readonly streams: OutputStreams;
  /** The run's entry ids, in backlog order. */
  readonly entryIds: readonly string[];
}

const fieldsOf = (flat: readonly string[]): Map<string, string> => {
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i] as string, flat[i + 1] as string);
  return fields;
};

const scanGames = async (documents: DynamoDBDocumentClient, tableName: string): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return items;
};

/** Reads the games table and the output streams of one run. */
export const readFinalState = async (sources: FinalStateSources): Promise<FinalState> => {
  const positions = new Map(sources.entryIds.map((id, index) => [id, index]));
  const position = (id: string | undefined): string => {
    const found = id === undefined ? undefined : positions.get(id);
    return found === undefined ? `?${id ?? ''}` : `#${found}`;
  };
  const games = await scanGames(sources.documents, sources.gamesTable);
  const statuses: Record<string, string> = {};
  for (const game of games) statuses[String(game.gameId)] = String(game.status);

  const [stopJobs, intents, deadLetters] = await Promise.all(
    [sources.streams.stopJobs, sources.streams.notificationIntents, sources.streams.deadLetters].map(async (stream) =>
      (await sources.redis.xrange(stream, '-', '+')).map(([, flat]) => fieldsOf(flat)),
    ),
  );

  const intentsByKey: Record<string, string> = {};
  for (const intent of intents ?? []) {
    const key = intent.get('idempotency_key') ?? '';
    const sourceId = key.slice(pausedIntentKey('').length);
    const payload = JSON.parse(intent.get('payload_json') ?? '{}') as { game_id?: unknown };
    intentsByKey[pausedIntentKey(position(sourceId))] = String(payload.game_id);
  }
  const deadByReason: Record<string, Set<number>> = {};
  for (const dead of deadLetters ?? []) {
    const reason = dead.get('dead_letter_reason') ?? '';
    const index = positions.get(dead.get('dead_letter_source_id') ?? '') ?? -1;
    const indexes = deadByReason[reason] ?? new Set<number>();
    indexes.add(index);
    deadByReason[reason] = indexes;
  }
  return {
    statuses,
    pendingIntents: games.filter((game) => game.pendingIntent !== undefined).length,
    stopJobs: [
      ...new Set((stopJobs ?? []).map((job) => `${job.get('game_id')}@${position(job.get('source_entry_id'))}`)),
    ].sort(),
    intents: intentsByKey,
    deadLetters: Object.fromEntries(
      Object.entries(deadByReason).map(([reason, indices]) => [reason, [...indices].sort((a, b) => a - b)]),
    ),
    messages: { stopJobs: stopJobs?.length ?? 0, intents: intents?.length ?? 0, deadLetters: deadLetters?.length ?? 0 },
  };
};

/** How many differences are listed before the rest is summed up. */
const MAX_LISTED = 20;

const compareRecords = (
  section: string,
  a: Readonly<Record<string, unknown>>,
  b: Readonly<Record<string, unknown>>,
): string[] => {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.flatMap((key) => {
    const left = JSON.stringify(a[key]);
    const right = JSON.stringify(b[key]);
    return left === right ? [] : [`${section} ${key}: ${left ?? 'absent'} vs ${right ?? 'absent'}`];
  });
};

/**
 * The differences between two final states, as readable lines (empty when they agree):
 * statuses by game, leftover outboxes, stop jobs, intents by key, dead letters by reason.
 */
export const compareFinalStates = (a: ComparableState, b: ComparableState): string[] => {
  const differences = [
    ...compareRecords('status of', a.statuses, b.statuses),
    ...compareRecords('games with a pending intent', { count: a.pendingIntents }, { count: b.pendingIntents }),
    ...compareRecords('stop jobs', { all: a.stopJobs }, { all: b.stopJobs }),
    ...compareRecords('intent', a.intents, b.intents),
    ...compareRecords('dead letters', a.deadLetters, b.deadLetters),
  ];
  if (differences.length <= MAX_LISTED) return differences;
  return [...differences.slice(0, MAX_LISTED), `… and ${differences.length - MAX_LISTED} more`];
};
